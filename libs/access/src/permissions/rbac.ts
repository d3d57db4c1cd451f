import { Injectable } from '@nestjs/common';
import { AuthScope, Authorizer, CommandExecutor, ForbiddenError, Permission, Principal } from '@purser/core';
import { DirectoryLookup } from '@purser/directory';
import { TenantAuthorizer } from '@purser/platform';
import { ApiKeys } from '../api-keys/api-keys';
import { AccessStreams } from '../streams';
import { DEFAULT_TEAM_KEY_ROLE, DEFAULT_USER_ROLE, OWNER_ROLE, SELF, anyGrantCovers } from './catalogue';
import { Granter, RolePrincipal, RoleScope, RolesState, roleGrants, rolesDecider } from './roles.decider';

/** A role a principal holds somewhere, and why (the directory's role, an assignment, a team's, a key owner's). */
export interface Holding {
  roleId: string;
  scope: RoleScope;
  grants: readonly string[];
}

/** What a principal holds in an org: its roles, and the scopes an API key is narrowed to (empty: not narrowed). */
export interface Holdings {
  all: boolean;
  roles: Holding[];
  narrowedTo: readonly string[];
}

/** Where a permission is asked for: the org, and the team when there is one. */
export interface Target {
  orgId: string;
  teamId?: string;
}

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

  async roles(orgId: string): Promise<RolesState> {
    return (await this.executor.current(AccessStreams.roles(orgId), rolesDecider)).state;
  }

  /** The roles a principal of the org holds (nothing for a principal of another org or none at all). */
  async holdings(orgId: string, who: RolePrincipal, state?: RolesState): Promise<Holdings> {
    const s = state ?? (await this.roles(orgId));
    const roles: Holding[] = [];
    let narrowedTo: readonly string[] = [];
    const assigned = (p: RolePrincipal) => {
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
      const user = await this.directory.user(userId);
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
      const key = await this.apiKeys.state(who.id);
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
    return { all: false, roles, narrowedTo };
  }

  /** The holdings of a caller: the instance administrator (the setup owner, break-glass) holds everything. */
  async holdingsOf(principal: Principal, orgId: string): Promise<Holdings> {
    if (principal.instanceAdmin) return { all: true, roles: [], narrowedTo: [] };
    if (principal.orgId !== orgId || principal.actor.type === 'system')
      return { all: false, roles: [], narrowedTo: [] };
    return this.holdings(orgId, { type: principal.actor.type, id: principal.actor.id });
  }

  /** The holdings whose scope covers the target. */
  async covering(h: Holdings, target: Target): Promise<Holding[]> {
    if (!h.roles.some((r) => r.scope.type === 'team')) return h.roles;
    const path =
      target.teamId === undefined ? null : await this.directory.teamPath(target.orgId, target.teamId);
    return h.roles.filter((r) => r.scope.type === 'org' || (path !== null && path.includes(r.scope.teamId)));
  }

  /** Whether the holdings allow a permission at the target, and through which roles. */
  async explain(h: Holdings, permission: Permission, target: Target) {
    if (h.all) return { allowed: true, via: [{ roleId: '*', scope: orgScope }] };
    if (h.narrowedTo.length && !anyGrantCovers(h.narrowedTo, permission)) return { allowed: false, via: [] };
    const via = (await this.covering(h, target))
      .filter((r) => anyGrantCovers(r.grants, permission))
      .map((r) => ({ roleId: r.roleId, scope: r.scope }));
    return { allowed: via.length > 0, via };
  }

  /** What a caller may grant at a scope: the grants of their roles there, narrowed by their key's scopes. */
  async granterOf(principal: Principal, orgId: string, scope: RoleScope): Promise<Granter> {
    const h = await this.holdingsOf(principal, orgId);
    if (h.all) return { all: true, grants: [], owner: true };
    const here = await this.covering(h, scope.type === 'team' ? { orgId, teamId: scope.teamId } : { orgId });
    let grants = [...new Set(here.flatMap((r) => r.grants))];
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
      const target = scope.teamId === undefined ? { orgId } : { orgId, teamId: scope.teamId };
      if ((await this.rbac.explain(holdings, permission, target)).allowed) return;
    }
    throw new ForbiddenError(`you do not hold ${permission} here`, [
      { field: 'permission', problem: 'missing', permission },
    ]);
  }
}
