import { CanActivate, ExecutionContext, Injectable, createParamDecorator } from '@nestjs/common';
import { randomUUID, timingSafeEqual } from 'node:crypto';
import { Actor, CommandContext, UnauthenticatedError, ValidationError } from '@purser/core';

export interface RequestWithContext {
  headers: Record<string, string | string[] | undefined>;
  purser?: { actor: Actor; correlationId: string };
}

const CORRELATION = /^[A-Za-z0-9._:-]{1,128}$/;

/**
 * Establishes who is calling. With PURSER_ADMIN_TOKEN set, every /v1 request must carry it as a bearer token
 * (actor: apiKey "admin-token"). Without it (local development), calls are accepted as actor user "anonymous"
 * and a warning is logged at start-up. Sign-in, API keys and RBAC replace this in the access context.
 */
@Injectable()
export class ActorGuard implements CanActivate {
  constructor(private readonly adminToken: string | null) {}

  canActivate(context: ExecutionContext): boolean {
    const req = context.switchToHttp().getRequest<RequestWithContext & { url?: string }>();
    if (!(req.url ?? '').startsWith('/v1')) return true; // /health, /metrics, /docs are open
    const header = req.headers['x-correlation-id'];
    const given = Array.isArray(header) ? header[0] : header;
    if (given !== undefined && !CORRELATION.test(given)) {
      throw new ValidationError('X-Correlation-Id must be 1-128 characters of [A-Za-z0-9._:-]', [
        { field: 'X-Correlation-Id', problem: 'invalid' },
      ]);
    }
    const correlationId = given ?? randomUUID();
    if (!this.adminToken) {
      req.purser = { actor: { type: 'user', id: 'anonymous' }, correlationId };
      return true;
    }
    const auth = req.headers['authorization'];
    const token = typeof auth === 'string' && auth.startsWith('Bearer ') ? auth.slice(7) : null;
    if (!token || !safeEqual(token, this.adminToken)) {
      throw new UnauthenticatedError('a valid bearer token is required', [
        { field: 'Authorization', problem: 'missing or wrong' },
      ]);
    }
    req.purser = { actor: { type: 'apiKey', id: 'admin-token' }, correlationId };
    return true;
  }
}

function safeEqual(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

/** The command context of the current request: actor, correlation id and the time of execution. */
export const Ctx = createParamDecorator((_data: unknown, context: ExecutionContext): CommandContext => {
  const req = context.switchToHttp().getRequest<RequestWithContext>();
  if (!req.purser) throw new UnauthenticatedError('no actor on this request');
  return {
    actor: req.purser.actor,
    correlationId: req.purser.correlationId,
    causationId: null,
    now: new Date().toISOString(),
  };
});
