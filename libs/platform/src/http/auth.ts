import { Injectable, SetMetadata } from '@nestjs/common';
import { createHash, timingSafeEqual } from 'node:crypto';
import {
  AuthRequest,
  AuthScope,
  Authenticator,
  Authorizer,
  ForbiddenError,
  Permission,
  Principal,
  UnauthenticatedError,
  orgNotFound,
} from '@purser/core';

export const PUBLIC_ROUTE = 'purser:public';
export const REQUIRED_PERMISSION = 'purser:requires';

/** An open route: no credential is asked (health, metrics, sign-in, setup, JWKS, docs). */
export const Public = () => SetMetadata(PUBLIC_ROUTE, true);

/**
 * The permission a route needs, checked by the Authorizer in the route's org. Names in use: org.create, org.read,
 * org.manage, team.read, team.manage, user.read, user.manage, usage.record, usage.read, rate.read, rate.manage,
 * quota.read, quota.manage, quota.check, self (a signed-in user's own profile, password, sessions and MFA),
 * session.manage, apikey.manage, role.read, role.manage, permission.read (the access context's catalogue lists them
 * all). A route with neither @Public() nor @Requires is refused (403) and fails the route test.
 */
export const Requires = (permission: Permission) => SetMetadata(REQUIRED_PERMISSION, permission);

/** Permissions only the instance administrator holds. */
export const INSTANCE_PERMISSIONS: ReadonlySet<Permission> = new Set(['org.create']);

/** The credential of `Authorization: Bearer <credential>`, or null. */
export function bearerOf(request: Pick<AuthRequest, 'headers'>): string | null {
  const auth = request.headers['authorization'];
  if (typeof auth !== 'string') return null;
  const m = /^Bearer ([\x21-\x7e]{1,2048})$/i.exec(auth.trim());
  return m ? m[1] : null;
}

export function unauthenticated(problem = 'missing, malformed, expired or revoked'): UnauthenticatedError {
  return new UnauthenticatedError(
    'a valid credential is required (Authorization: Bearer <token or API key>)',
    [{ field: 'Authorization', problem }],
  );
}

/**
 * The break-glass credential: PURSER_ADMIN_TOKEN, when set, is an instance administrator in every org (for
 * recovery when no administrator can sign in). Every change it makes carries the actor apiKey "break-glass".
 */
export class BreakGlass {
  private readonly token: HeldSecret | null;
  static readonly ACTOR = { type: 'apiKey' as const, id: 'break-glass' };

  constructor(token: string | null) {
    this.token = token ? new HeldSecret(token) : null;
  }

  get enabled(): boolean {
    return this.token !== null;
  }

  /** The principal when `credential` is the break-glass token, else null (compared in constant time). */
  match(credential: string): Principal | null {
    if (!this.token?.matches(credential)) return null;
    return { actor: { ...BreakGlass.ACTOR }, orgId: null, instanceAdmin: true, via: 'breakGlass' };
  }
}

/**
 * One configured secret (the break-glass token, the setup token), kept in memory only as its SHA-256 digest and
 * compared in constant time: equal-length digests, so neither the content nor the length leaks through timing.
 */
export class HeldSecret {
  private readonly digest: Buffer;

  constructor(secret: string) {
    this.digest = sha256(secret);
  }

  matches(candidate: string): boolean {
    return timingSafeEqual(sha256(candidate), this.digest);
  }
}

function sha256(s: string): Buffer {
  return createHash('sha256').update(s).digest();
}

/** Without the access context: only the break-glass token is a credential. */
export class BreakGlassAuthenticator implements Authenticator {
  constructor(private readonly breakGlass: BreakGlass) {}

  authenticate(request: AuthRequest): Principal {
    const credential = bearerOf(request);
    const principal = credential ? this.breakGlass.match(credential) : null;
    if (!principal) throw unauthenticated(credential ? 'not a valid credential' : 'missing');
    return principal;
  }
}

/**
 * Tenancy, the rule under every permission: a principal acts in its own org only (404 for any other, exactly as for
 * an org that does not exist); instance-wide permissions are the instance administrator's. What each principal may
 * do inside its org is the permissions issue's (roles); until then every principal of the org may.
 */
export class TenantAuthorizer implements Authorizer {
  authorize(principal: Principal, permission: Permission, scope: AuthScope): void {
    if (permission === 'self' && principal.via !== 'session') {
      throw new ForbiddenError(
        'only a signed-in user has this (an API key or the break-glass token has not)',
        [{ field: 'Authorization', problem: 'not a user session' }],
      );
    }
    if (principal.instanceAdmin) return;
    if (INSTANCE_PERMISSIONS.has(permission)) {
      throw new ForbiddenError('only the instance administrator may do this', [
        { field: 'permission', problem: 'missing', permission },
      ]);
    }
    if (scope.orgId !== undefined && scope.orgId !== principal.orgId) throw orgNotFound(scope.orgId);
  }
}

/**
 * The authenticator and authorizer the guard calls: the platform's defaults until a context (access) installs its
 * own at start-up, as contexts register their events and projections.
 */
@Injectable()
export class Gatekeeper implements Authenticator, Authorizer {
  constructor(
    private authenticator: Authenticator,
    private authorizer: Authorizer,
    private readonly options: { authorizerPinned?: boolean } = {},
  ) {}

  install(parts: { authenticator?: Authenticator; authorizer?: Authorizer }): void {
    if (parts.authenticator) this.authenticator = parts.authenticator;
    if (parts.authorizer && !this.options.authorizerPinned) this.authorizer = parts.authorizer;
  }

  authenticate(request: AuthRequest): Principal | Promise<Principal> {
    return this.authenticator.authenticate(request);
  }

  authorize(principal: Principal, permission: Permission, scope: AuthScope): void | Promise<void> {
    return this.authorizer.authorize(principal, permission, scope);
  }
}
