import { Actor } from './events';

/**
 * Ports of the HTTP edge's guard. The platform provides the current behaviour (an admin bearer token, or user
 * "anonymous" without one); the access context will provide sign-in, API keys and roles behind the same ports.
 */

/** A permission a route declares with @Requires, e.g. 'org.manage', 'usage.record', 'quota.check'. */
export type Permission = string;

/** What the guard hands the authenticator: the request as far as identity is concerned. */
export interface AuthRequest {
  method: string;
  url: string;
  headers: Record<string, string | string[] | undefined>;
}

/** Establishes who is calling, or throws UnauthenticatedError (401). */
export interface Authenticator {
  authenticate(request: AuthRequest): Actor | Promise<Actor>;
}

/** What a permission is asked for: the org of the route, when the route names one. */
export interface AuthScope {
  orgId?: string;
}

/** Decides whether an actor holds a permission in a scope; throws ForbiddenError (403) when not. */
export interface Authorizer {
  authorize(actor: Actor, permission: Permission, scope: AuthScope): void | Promise<void>;
}

export const AUTHENTICATOR = Symbol('Authenticator');
export const AUTHORIZER = Symbol('Authorizer');
