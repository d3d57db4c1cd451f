import { CanActivate, ExecutionContext, Inject, Injectable, createParamDecorator } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { randomUUID } from 'node:crypto';
import {
  AUTHENTICATOR,
  AUTHORIZER,
  Actor,
  AuthResource,
  AuthScope,
  Authenticator,
  Authorizer,
  Clock,
  CommandContext,
  ForbiddenError,
  SYSTEM_ACTOR,
  Permission,
  Principal,
  UnauthenticatedError,
  confinedOrg,
  ValidationError,
} from '@purser/core';
import { CLOCK } from '../tokens';
import { PUBLIC_ROUTE, REQUIRED_PERMISSION } from './auth';

export interface RequestWithContext {
  method?: string;
  url?: string;
  headers: Record<string, string | string[] | undefined>;
  params?: Record<string, string | undefined>;
  ip?: string;
  purser?: { actor: Actor; principal: Principal | null; correlationId: string; clock: Clock };
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
    const req = context.switchToHttp().getRequest<RequestWithContext>();
    if (access.open) {
      // Open routes act as the system (setup, sign-in, reset: what they record names the user in its data).
      req.purser = {
        actor: { ...SYSTEM_ACTOR },
        principal: null,
        correlationId: this.correlationOf(req),
        clock: this.clock,
      };
      return true;
    }
    const correlationId = this.correlationOf(req);
    const principal = this.authenticator.authenticate({
      method: req.method ?? 'GET',
      url: req.url ?? '',
      headers: req.headers,
      ip: req.ip,
    });
    return principal instanceof Promise
      ? principal.then((p) => this.admit(req, p, correlationId, access.permission))
      : this.admit(req, principal, correlationId, access.permission);
  }

  private correlationOf(req: RequestWithContext): string {
    const header = req.headers['x-correlation-id'];
    const given = Array.isArray(header) ? header[0] : header;
    if (given !== undefined && !CORRELATION.test(given)) {
      throw new ValidationError('X-Correlation-Id must be 1-128 characters of [A-Za-z0-9._:-]', [
        { field: 'X-Correlation-Id', problem: 'invalid' },
      ]);
    }
    return given ?? randomUUID();
  }

  private admit(
    req: RequestWithContext,
    principal: Principal,
    correlationId: string,
    permission: Permission | undefined,
  ): boolean | Promise<boolean> {
    if (!permission) {
      throw new ForbiddenError('this route declares no permission', [
        { field: 'route', problem: 'undeclared' },
      ]);
    }
    const scope = scopeOf(req.params ?? {});
    const allowed = this.authorizer.authorize(principal, permission, scope);
    const enter = () => {
      req.purser = { actor: principal.actor, principal, correlationId, clock: this.clock };
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

/** Which path parameter names which resource, deepest first. */
const RESOURCE_PARAMS: ReadonlyArray<[string, AuthResource['type']]> = [
  ['quotaId', 'quota'],
  ['keyId', 'apiKey'],
  ['userId', 'user'],
  ['teamId', 'team'],
];

/** What the route's path parameters say a permission is asked for: its org, team and resource. */
export function scopeOf(params: Record<string, string | undefined>): AuthScope {
  const { orgId, teamId } = params;
  if (orgId === undefined) return {};
  const scope: AuthScope = teamId === undefined ? { orgId } : { orgId, teamId };
  for (const [param, type] of RESOURCE_PARAMS) {
    const id = params[param];
    if (id !== undefined) return { ...scope, resource: { type, id } };
  }
  return scope;
}

/** The command context of the current request: actor, correlation id and the time of execution (from the Clock). */
export const Ctx = createParamDecorator((_data: unknown, context: ExecutionContext): CommandContext => {
  const req = context.switchToHttp().getRequest<RequestWithContext>();
  if (!req.purser) throw new UnauthenticatedError('no actor on this request');
  const confinedTo = req.purser.principal ? confinedOrg(req.purser.principal) : null;
  return {
    actor: req.purser.actor,
    correlationId: req.purser.correlationId,
    causationId: null,
    now: req.purser.clock.nowIso(),
    ...(confinedTo ? { confinedTo } : {}),
  };
});

/** The signed-in principal of a guarded route (401 on an open route: it has none). */
export const Caller = createParamDecorator((_data: unknown, context: ExecutionContext): Principal => {
  const req = context.switchToHttp().getRequest<RequestWithContext>();
  if (!req.purser?.principal) throw new UnauthenticatedError('this route needs a signed-in caller');
  return req.purser.principal;
});

/** The peer address and user agent of the request (for sign-in events and throttling). */
export interface RequestSource {
  ip: string;
  userAgent: string | null;
}

export const Source = createParamDecorator((_data: unknown, context: ExecutionContext): RequestSource => {
  const req = context.switchToHttp().getRequest<RequestWithContext>();
  const ua = req.headers['user-agent'];
  return {
    ip: req.ip ?? 'unknown',
    userAgent: typeof ua === 'string' ? ua.slice(0, 256) : null,
  };
});
