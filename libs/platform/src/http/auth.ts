import { SetMetadata } from '@nestjs/common';
import { timingSafeEqual } from 'node:crypto';
import {
  Actor,
  AuthRequest,
  Authenticator,
  Authorizer,
  Permission,
  UnauthenticatedError,
} from '@purser/core';

export const PUBLIC_ROUTE = 'purser:public';
export const REQUIRED_PERMISSION = 'purser:requires';

/** An open route: no actor is established (health, metrics). */
export const Public = () => SetMetadata(PUBLIC_ROUTE, true);

/**
 * The permission a route needs, checked by the Authorizer in the route's org. Names in use: org.read, org.manage,
 * team.read, team.manage, user.read, user.manage, usage.record, usage.read, rate.read, rate.manage, quota.read,
 * quota.manage, quota.check. A route with neither @Public() nor @Requires is refused (403) and fails the route test.
 */
export const Requires = (permission: Permission) => SetMetadata(REQUIRED_PERMISSION, permission);

/**
 * Today's identity: with PURSER_ADMIN_TOKEN set, every guarded request must carry it as a bearer token (actor: apiKey
 * "admin-token"); without it (local development) callers are user "anonymous". The access context replaces this.
 */
export class AdminTokenAuthenticator implements Authenticator {
  private static readonly ANONYMOUS: Actor = { type: 'user', id: 'anonymous' };
  private static readonly ADMIN: Actor = { type: 'apiKey', id: 'admin-token' };

  constructor(private readonly adminToken: string | null) {}

  authenticate(request: AuthRequest): Actor {
    if (!this.adminToken) return { ...AdminTokenAuthenticator.ANONYMOUS };
    const auth = request.headers['authorization'];
    const token = typeof auth === 'string' && auth.startsWith('Bearer ') ? auth.slice(7) : null;
    if (!token || !safeEqual(token, this.adminToken)) {
      throw new UnauthenticatedError('a valid bearer token is required', [
        { field: 'Authorization', problem: 'missing or wrong' },
      ]);
    }
    return { ...AdminTokenAuthenticator.ADMIN };
  }
}

/** Today's authorization: an authenticated actor may do everything (roles arrive with the permissions issue). */
export class AllowAllAuthorizer implements Authorizer {
  authorize(): void {}
}

function safeEqual(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}
