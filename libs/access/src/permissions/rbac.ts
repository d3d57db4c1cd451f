import { Injectable } from '@nestjs/common';
import { AuthScope, Authorizer, CommandExecutor, ForbiddenError, Permission, Principal } from '@purser/core';
import { DirectoryLookup } from '@purser/directory';
import { TenantAuthorizer } from '@purser/platform';
import { apiKeyDecider } from '../api-keys/api-key.decider';
import { ApiKeys } from '../api-keys/api-keys';
import { AccessStreams } from '../streams';
import { ApiKeyOwner } from '../events';
import { DEFAULT_TEAM_KEY_ROLE, DEFAULT_USER_ROLE, OWNER_ROLE, SELF, anyGrantCovers } from './catalogue';
import {
  AclEntry,
  AclPrincipal,
  AclResource,
  Granter,
  RolePrincipal,
  RoleScope,
  RolesState,
  roleGrants,
  rolesDecider,
} from './roles.decider';

/** A role a principal holds somewhere, and why (the directory's role, an assignment, a team's, a key owner's). */
export interface Holding {
  roleId: string;
  scope: RoleScope;
  grants: readonly string[];
}

/**
 * What a principal holds in an org: its roles, the ACL entries granted to it (to the user, their teams, the key, the
 * key's owner, or a role it holds somewhere), and the scopes an API key is narrowed to (empty: not narrowed); `asOf`
 * when it was read from history (the team tree is then read as of the same instant).
 */
export interface Holdings {
  all: boolean;
  roles: Holding[];
  acl: AclEntry[];
  narrowedTo: readonly string[];
  asOf?: string;
}

/** Where a permission is asked for: the org, the team when there is one, and the resource when the route names one. */
export interface Target {
  orgId: string;
  teamId?: string;
  resource?: AclResource;
}

/** What the answer came through: a role at a scope, or an ACL entry on the resource. */
export type Via =
  { roleId: string; scope: RoleScope } | { acl: { resource: AclResource; principal: AclPrincipal } };

/** The resource of a target: the one it names, else its team, else the org. */
export function resourceOf(target: Target): AclResource {
  if (target.resource) return target.resource;
  if (target.teamId !== undefined) return { type: 'team', id: target.teamId };
  return { type: 'org', id: target.orgId };
}

const nothing = (): Holdings => ({ all: false, roles: [], acl: [], narrowedTo: [] });

const orgScope: RoleScope = { type: 'org' };

/**
 * Roles and permissions: allow-only (no deny), the union of the principal's roles at the scopes that cover the
 * target (the org scope covers everything in the org; a team scope covers that team and every team below it).
 */
@Injectable()
export class Rbac {
  constructor(
    private readonly executor: CommandExecutor,
    private readonly directory: DirectoryLookup,
    private readonly apiKeys: ApiKeys,
  ) {}

  /** The org's roles now, or as they were at `asOf` (the stream folded up to that instant). */
  async roles(orgId: string, asOf?: string): Promise<RolesState> {
    const stream = AccessStreams.roles(orgId);
    return asOf === undefined
      ? (await this.executor.current(stream, rolesDecider)).state
      : (await this.executor.load(stream, rolesDecider, asOf)).state;
  }

  private async user(orgId: string, userId: string, asOf: string | undefined) {
    if (asOf === undefined) return this.directory.user(userId);
    return (await this.directory.asOf({ orgIds: [orgId], userIds: [userId] }, asOf)).user(userId);
  }

  private async teamPath(orgId: string, teamId: string, asOf: string | undefined) {
    if (asOf === undefined) return this.directory.teamPath(orgId, teamId);
    return (await this.directory.asOf({ orgIds: [orgId] }, asOf)).teamPath(orgId, teamId);
  }

  /**
   * The roles and ACL entries a principal of the org holds (nothing for a principal of another org or none at all),
   * now or at `asOf`: the roles stream, the user's memberships, the API key and the team tree as they were then.
   */
  async holdings(
    orgId: string,
    who: RolePrincipal,
    state?: RolesState,
    asOf?: string,
    /** For an API key principal: its owner and scopes as the authenticator just read them (now, not asOf). */
    knownKey?: { owner: ApiKeyOwner; scopes: readonly string[] },
  ): Promise<Holdings> {
    const s = state ?? (await this.roles(orgId, asOf));
    const roles: Holding[] = [];
    const principals: AclPrincipal[] = [];
    let narrowedTo: readonly string[] = [];
    const assigned = (p: RolePrincipal) => {
      principals.push({ type: p.type, id: p.id });
      for (const a of s.assignments)
        if (a.principal.type === p.type && a.principal.id === p.id) {
          const grants = roleGrants(s, a.roleId);
          if (grants) roles.push({ roleId: a.roleId, scope: a.scope, grants });
        }
    };
    const implicit = (roleId: string) => {
      const grants = roleGrants(s, roleId);
      if (grants) roles.push({ roleId, scope: orgScope, grants });
    };
    const ofUser = async (userId: string) => {
      const user = await this.user(orgId, userId, asOf);
      if (!user || user.orgId !== orgId) return;
      // A user's org-wide role is their org-scope assignment (RoleAssigned), member without one; never the
      // directory's role_id, which anyone with user.manage may write. Team assignments add to it.
      const orgWide = s.assignments.some(
        (a) => a.principal.type === 'user' && a.principal.id === userId && a.scope.type === 'org',
      );
      if (!orgWide) implicit(DEFAULT_USER_ROLE);
      assigned({ type: 'user', id: userId });
      for (const teamId of user.teamIds) assigned({ type: 'team', id: teamId });
    };
    if (who.type === 'user') await ofUser(who.id);
    else if (who.type === 'team') assigned(who);
    else {
      const key = knownKey
        ? { keyId: who.id, orgId, ...knownKey }
        : asOf === undefined
          ? await this.apiKeys.state(who.id)
          : (await this.executor.load(AccessStreams.apiKey(who.id), apiKeyDecider, asOf)).state;
      if (key.keyId !== null && key.orgId === orgId && key.owner) {
        assigned(who);
        if (key.owner.type === 'user') await ofUser(key.owner.id);
        else {
          implicit(DEFAULT_TEAM_KEY_ROLE);
          assigned(key.owner);
        }
        narrowedTo = key.scopes;
      }
    }
    const held = (p: AclPrincipal) =>
      p.type === 'role'
        ? roles.some((r) => r.roleId === p.id)
        : principals.some((q) => q.type === p.type && q.id === p.id);
    const acl = s.acl.filter((e) => held(e.principal));
    return { all: false, roles, acl, narrowedTo, ...(asOf === undefined ? {} : { asOf }) };
  }

  /** The holdings of a caller: the instance administrator (the setup owner, break-glass) holds everything. */
  async holdingsOf(principal: Principal, orgId: string): Promise<Holdings> {
    if (principal.instanceAdmin) return { ...nothing(), all: true };
    if (principal.orgId !== orgId || principal.actor.type === 'system') return nothing();
    const known =
      principal.via === 'apiKey' && principal.keyOwner
        ? { owner: principal.keyOwner, scopes: principal.scopes ?? [] }
        : undefined;
    return this.holdings(
      orgId,
      { type: principal.actor.type, id: principal.actor.id },
      undefined,
      undefined,
      known,
    );
  }

  /** The holdings whose scope covers the target. */
  async covering(h: Holdings, target: Target): Promise<Holding[]> {
    if (!h.roles.some((r) => r.scope.type === 'team')) return h.roles;
    const path =
      target.teamId === undefined ? null : await this.teamPath(target.orgId, target.teamId, h.asOf);
    return h.roles.filter((r) => r.scope.type === 'org' || (path !== null && path.includes(r.scope.teamId)));
  }

  /**
   * The ACL entries on the target's resource that the holdings hold there: granted to the principal, its teams, its
   * key or key owner, or a role it holds at a scope covering the target.
   */
  aclHere(h: Holdings, covering: readonly Holding[], target: Target): AclEntry[] {
    const resource = resourceOf(target);
    return h.acl.filter(
      (e) =>
        e.resource.type === resource.type &&
        e.resource.id === resource.id &&
        (e.principal.type !== 'role' || covering.some((r) => r.roleId === e.principal.id)),
    );
  }

  /**
   * Whether the holdings allow a permission at the target, and through which roles or ACL entries: allow-only, the
   * union of the roles at covering scopes and the ACL entries on the resource (an API key's scopes narrow both).
   */
  async explain(
    h: Holdings,
    permission: Permission,
    target: Target,
  ): Promise<{ allowed: boolean; via: Via[] }> {
    if (h.all) return { allowed: true, via: [{ roleId: '*', scope: orgScope }] };
    if (h.narrowedTo.length && !anyGrantCovers(h.narrowedTo, permission)) return { allowed: false, via: [] };
    const covering = await this.covering(h, target);
    const via: Via[] = covering
      .filter((r) => anyGrantCovers(r.grants, permission))
      .map((r) => ({ roleId: r.roleId, scope: r.scope }));
    for (const e of this.aclHere(h, covering, target))
      if (anyGrantCovers(e.permissions, permission))
        via.push({ acl: { resource: e.resource, principal: e.principal } });
    return { allowed: via.length > 0, via };
  }

  /**
   * What a caller may grant at a scope (or on a resource): the grants of their roles there and of their ACL entries
   * on the resource, narrowed by their key's scopes.
   */
  async granterOf(principal: Principal, orgId: string, at: RoleScope | Target): Promise<Granter> {
    const h = await this.holdingsOf(principal, orgId);
    if (h.all) return { all: true, grants: [], owner: true };
    const target: Target =
      'type' in at ? (at.type === 'team' ? { orgId, teamId: at.teamId } : { orgId }) : at;
    const here = await this.covering(h, target);
    const acl = 'type' in at ? [] : this.aclHere(h, here, target).flatMap((e) => e.permissions);
    let grants = [...new Set([...here.flatMap((r) => r.grants), ...acl])];
    if (h.narrowedTo.length) grants = h.narrowedTo.filter((s) => anyGrantCovers(grants, s));
    const owner = !h.narrowedTo.length && here.some((r) => r.roleId === OWNER_ROLE);
    return { all: !h.narrowedTo.length && grants.includes('*'), grants, owner };
  }
}

/**
 * The authorizer installed in the platform's gatekeeper: tenancy first, exactly as TenantAuthorizer (404 for another
 * org, org.create for the instance administrator, 'self' for sessions), then the permission in the route's org (and
 * team) for the principal's roles; 403 without it.
 */
@Injectable()
export class RbacAuthorizer implements Authorizer {
  private readonly tenancy = new TenantAuthorizer();

  constructor(private readonly rbac: Rbac) {}

  async authorize(principal: Principal, permission: Permission, scope: AuthScope): Promise<void> {
    this.tenancy.authorize(principal, permission, scope);
    if (principal.instanceAdmin) return;
    // A signed-in user's own account is theirs whatever their roles (tenancy has checked it is a session).
    if (permission === SELF) return;
    const orgId = scope.orgId ?? principal.orgId;
    if (orgId) {
      const holdings = await this.rbac.holdingsOf(principal, orgId);
      const target: Target = { orgId };
      if (scope.teamId !== undefined) target.teamId = scope.teamId;
      if (scope.resource) target.resource = scope.resource;
      if ((await this.rbac.explain(holdings, permission, target)).allowed) return;
    }
    throw new ForbiddenError(`you do not hold ${permission} here`, [
      { field: 'permission', problem: 'missing', permission },
    ]);
  }
}
