import { CanActivate, ExecutionContext, Inject, Injectable, createParamDecorator } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { randomUUID } from 'node:crypto';
import {
  AUTHENTICATOR,
  AUTHORIZER,
  Actor,
  Authenticator,
  Authorizer,
  Clock,
  CommandContext,
  ForbiddenError,
  Permission,
  UnauthenticatedError,
  ValidationError,
} from '@purser/core';
import { CLOCK } from '../tokens';
import { PUBLIC_ROUTE, REQUIRED_PERMISSION } from './auth';

export interface RequestWithContext {
  method?: string;
  url?: string;
  headers: Record<string, string | string[] | undefined>;
  params?: Record<string, string | undefined>;
  purser?: { actor: Actor; correlationId: string; clock: Clock };
}

const CORRELATION = /^[A-Za-z0-9._:-]{1,128}$/;

/** What a route declares, read once per handler. */
type Access = { open: true } | { open: false; permission: Permission | undefined };

/**
 * Establishes who is calling from route metadata: @Public() routes are open; every other route declares the
 * permission it needs with @Requires, the Authenticator says who calls and the Authorizer whether they may, in the
 * route's org. A route that declares neither is refused. The correlation id (X-Correlation-Id, else a new one) and
 * the clock travel with the actor to the Ctx of the request.
 */
@Injectable()
export class ActorGuard implements CanActivate {
  private readonly access = new WeakMap<object, Access>();

  constructor(
    private readonly reflector: Reflector,
    @Inject(AUTHENTICATOR) private readonly authenticator: Authenticator,
    @Inject(AUTHORIZER) private readonly authorizer: Authorizer,
    @Inject(CLOCK) private readonly clock: Clock,
  ) {}

  canActivate(context: ExecutionContext): boolean | Promise<boolean> {
    const access = this.accessOf(context);
    if (access.open) return true;
    const req = context.switchToHttp().getRequest<RequestWithContext>();
    const header = req.headers['x-correlation-id'];
    const given = Array.isArray(header) ? header[0] : header;
    if (given !== undefined && !CORRELATION.test(given)) {
      throw new ValidationError('X-Correlation-Id must be 1-128 characters of [A-Za-z0-9._:-]', [
        { field: 'X-Correlation-Id', problem: 'invalid' },
      ]);
    }
    const correlationId = given ?? randomUUID();
    const actor = this.authenticator.authenticate({
      method: req.method ?? 'GET',
      url: req.url ?? '',
      headers: req.headers,
    });
    return actor instanceof Promise
      ? actor.then((a) => this.admit(req, a, correlationId, access.permission))
      : this.admit(req, actor, correlationId, access.permission);
  }

  private admit(
    req: RequestWithContext,
    actor: Actor,
    correlationId: string,
    permission: Permission | undefined,
  ): boolean | Promise<boolean> {
    if (!permission) {
      throw new ForbiddenError('this route declares no permission', [
        { field: 'route', problem: 'undeclared' },
      ]);
    }
    const orgId = req.params?.orgId;
    const allowed = this.authorizer.authorize(actor, permission, orgId === undefined ? {} : { orgId });
    const enter = () => {
      req.purser = { actor, correlationId, clock: this.clock };
      return true;
    };
    return allowed instanceof Promise ? allowed.then(enter) : enter();
  }

  private accessOf(context: ExecutionContext): Access {
    const handler = context.getHandler();
    let access = this.access.get(handler);
    if (!access) {
      const targets = [handler, context.getClass()];
      access = this.reflector.getAllAndOverride<boolean>(PUBLIC_ROUTE, targets)
        ? { open: true }
        : {
            open: false,
            permission: this.reflector.getAllAndOverride<Permission>(REQUIRED_PERMISSION, targets),
          };
      this.access.set(handler, access);
    }
    return access;
  }
}

/** The command context of the current request: actor, correlation id and the time of execution (from the Clock). */
export const Ctx = createParamDecorator((_data: unknown, context: ExecutionContext): CommandContext => {
  const req = context.switchToHttp().getRequest<RequestWithContext>();
  if (!req.purser) throw new UnauthenticatedError('no actor on this request');
  return {
    actor: req.purser.actor,
    correlationId: req.purser.correlationId,
    causationId: null,
    now: req.purser.clock.nowIso(),
  };
});
