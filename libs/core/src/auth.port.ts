import { Actor } from './events';
import { NotFoundError } from './errors';

/**
 * Ports of the HTTP edge's guard. The access context provides sign-in, sessions and API keys behind them; the
 * platform's defaults know only the break-glass token (PURSER_ADMIN_TOKEN) and tenancy.
 */

/** A permission a route declares with @Requires, e.g. 'org.manage', 'usage.record', 'quota.check'. */
export type Permission = string;

/** What the guard hands the authenticator: the request as far as identity is concerned. */
export interface AuthRequest {
  method: string;
  url: string;
  headers: Record<string, string | string[] | undefined>;
  /** The peer's address (the source of sign-in events and of per-address throttling). */
  ip?: string;
}

/** Who is calling, as established from their credential. */
export interface Principal {
  /** Recorded on every event the request causes. */
  actor: Actor;
  /** The org the credential belongs to; null for an instance-wide credential (the break-glass token). */
  orgId: string | null;
  /** The instance administrator (the setup owner, the break-glass token) may act in every org. */
  instanceAdmin: boolean;
  /** How the caller signed in: a session's access token, an API key, or the break-glass token. */
  via: 'session' | 'apiKey' | 'breakGlass';
  /** The session an access token belongs to. */
  sessionId?: string;
  /** An API key's scopes (the permissions issue narrows the owner's permissions to them). */
  scopes?: readonly string[];
  /** An API key's owner, as the authenticator read it (so authorization need not read the key again). */
  keyOwner?: { type: 'user' | 'team'; id: string };
}

/** Establishes who is calling, or throws UnauthenticatedError (401). */
export interface Authenticator {
  authenticate(request: AuthRequest): Principal | Promise<Principal>;
}

/** What a permission is asked for: the org of the route, when the route names one. */
export interface AuthScope {
  orgId?: string;
  /** The team of the route, when it names one (a team scope covers it and every team below it). */
  teamId?: string;
  /**
   * The resource the route acts on, when it names one (the deepest of its quota, API key, user or team): ACL
   * entries on it may grant what no role does.
   */
  resource?: AuthResource;
}

/** A resource of an org a route acts on (per-resource grants, ACLs, are about these). */
export interface AuthResource {
  type: 'quota' | 'apiKey' | 'user' | 'team';
  id: string;
}

/**
 * Decides whether a principal holds a permission in a scope; throws ForbiddenError (403), or NotFoundError (404)
 * where even the existence of the scope is not the caller's to know (another org).
 */
export interface Authorizer {
  authorize(principal: Principal, permission: Permission, scope: AuthScope): void | Promise<void>;
}

export const AUTHENTICATOR = Symbol('Authenticator');
export const AUTHORIZER = Symbol('Authorizer');

/** The one answer for an org that does not exist, was deleted, or is not the caller's: they cannot tell apart. */
export function orgNotFound(orgId: string): NotFoundError {
  return new NotFoundError(`org ${orgId} not found`, [{ field: 'orgId', problem: 'unknown' }]);
}

/** The org a principal is confined to: null when it may act in every org (instance administrators). */
export function confinedOrg(principal: Principal): string | null {
  return principal.instanceAdmin ? null : principal.orgId;
}
