import {
  ConflictError,
  Decider,
  DomainEvent,
  ForbiddenError,
  NotFoundError,
  RuleViolationError,
  refuse,
} from '@purser/core';
import { BUILT_IN, CATALOGUE_NAMES, OWNER_ROLE, anyGrantCovers } from './catalogue';

/** Who a role is assigned to: a user, a team (its members hold it) or an API key. */
export interface RolePrincipal {
  type: 'user' | 'team' | 'apiKey';
  id: string;
}
/** Where an assignment holds: the whole org, or a team and every team below it. */
export type RoleScope = { type: 'org' } | { type: 'team'; teamId: string };

export interface Assignment {
  principal: RolePrincipal;
  roleId: string;
  scope: RoleScope;
}

/** What an ACL entry is about: one resource of the org. */
export interface AclResource {
  type: 'quota' | 'team' | 'user' | 'apiKey' | 'org';
  id: string;
}
/** Who an ACL entry grants to: a user, a team (its members), a role (its holders) or an API key. */
export interface AclPrincipal {
  type: 'user' | 'team' | 'role' | 'apiKey';
  id: string;
}
/** Per-resource grants (allow-only): the principal holds these permissions on that resource. */
export interface AclEntry {
  resource: AclResource;
  principal: AclPrincipal;
  permissions: string[];
}

// --- events (stream roles-<orgId>) ------------------------------------------------------------------------------

export type PermissionDefined = DomainEvent<
  'PermissionDefined',
  { orgId: string; name: string; description: string }
>;
export type RoleCreated = DomainEvent<
  'RoleCreated',
  { orgId: string; roleId: string; name: string; description: string; permissions: string[] }
>;
export type RoleUpdated = DomainEvent<
  'RoleUpdated',
  { orgId: string; roleId: string; name: string; description: string }
>;
export type RoleDeleted = DomainEvent<'RoleDeleted', { orgId: string; roleId: string }>;
export type RolePermissionAdded = DomainEvent<
  'RolePermissionAdded',
  { orgId: string; roleId: string; permission: string }
>;
export type RolePermissionRemoved = DomainEvent<
  'RolePermissionRemoved',
  { orgId: string; roleId: string; permission: string }
>;
export type RoleAssigned = DomainEvent<'RoleAssigned', { orgId: string } & Assignment>;
export type RoleRevoked = DomainEvent<'RoleRevoked', { orgId: string } & Assignment>;
export type AclGranted = DomainEvent<'AclGranted', { orgId: string } & AclEntry>;
export type AclRevoked = DomainEvent<'AclRevoked', { orgId: string } & AclEntry>;

export type RolesEvent =
  | PermissionDefined
  | RoleCreated
  | RoleUpdated
  | RoleDeleted
  | RolePermissionAdded
  | RolePermissionRemoved
  | RoleAssigned
  | RoleRevoked
  | AclGranted
  | AclRevoked;

export const ROLES_EVENT_TYPES = [
  'PermissionDefined',
  'RoleCreated',
  'RoleUpdated',
  'RoleDeleted',
  'RolePermissionAdded',
  'RolePermissionRemoved',
  'RoleAssigned',
  'RoleRevoked',
  'AclGranted',
  'AclRevoked',
] as const satisfies readonly RolesEvent['type'][];

// --- state -------------------------------------------------------------------------------------------------------

export interface CustomRole {
  roleId: string;
  name: string;
  description: string;
  permissions: string[];
}

export interface RolesState {
  permissions: ReadonlyMap<string, string>;
  roles: ReadonlyMap<string, CustomRole>;
  assignments: readonly Assignment[];
  /** Per-resource grants, one entry per resource and principal. */
  acl: readonly AclEntry[];
}

/**
 * What the one granting holds where the grant applies, established by the handler from their roles (the decider
 * stays pure): every permission (`all`), or the grants they hold there; and whether they are an owner there.
 */
export interface Granter {
  all: boolean;
  grants: readonly string[];
  owner: boolean;
}

export type RolesCommand =
  | { type: 'DefinePermission'; orgId: string; name: string; description: string }
  | {
      type: 'CreateRole';
      orgId: string;
      roleId: string;
      name: string;
      description: string;
      permissions: string[];
      granter: Granter;
    }
  | { type: 'UpdateRole'; orgId: string; roleId: string; name?: string; description?: string }
  | { type: 'DeleteRole'; orgId: string; roleId: string }
  | { type: 'AddRolePermission'; orgId: string; roleId: string; permission: string; granter: Granter }
  | { type: 'RemoveRolePermission'; orgId: string; roleId: string; permission: string }
  | ({ type: 'AssignRole'; orgId: string; granter: Granter } & Assignment)
  | ({ type: 'RevokeRole'; orgId: string; granter: Granter } & Assignment)
  | ({ type: 'GrantAcl'; orgId: string; granter: Granter } & AclEntry)
  | ({ type: 'RevokeAcl'; orgId: string; granter: Granter } & AclEntry);

export const sameAssignment = (a: Assignment, b: Assignment): boolean =>
  a.roleId === b.roleId &&
  a.principal.type === b.principal.type &&
  a.principal.id === b.principal.id &&
  a.scope.type === b.scope.type &&
  (a.scope.type === 'org' || (b.scope.type === 'team' && a.scope.teamId === b.scope.teamId));

export const sameAclTarget = (a: Omit<AclEntry, 'permissions'>, b: Omit<AclEntry, 'permissions'>) =>
  a.resource.type === b.resource.type &&
  a.resource.id === b.resource.id &&
  a.principal.type === b.principal.type &&
  a.principal.id === b.principal.id;

export const roleNotFound = (roleId: string) =>
  new NotFoundError(`role ${roleId} not found`, [{ field: 'roleId', problem: 'unknown' }]);

/** The grants of a role of the org (built-in or custom), or null. */
export function roleGrants(s: RolesState, roleId: string): readonly string[] | null {
  return BUILT_IN.get(roleId)?.grants ?? s.roles.get(roleId)?.permissions ?? null;
}

function notHeld(permission: string) {
  return new ForbiddenError('no one grants what they do not hold', [
    { field: 'permission', problem: 'not held by you', permission },
  ]);
}

function builtInUnchangeable(roleId: string) {
  return new ConflictError(`${roleId} is a built-in role: it cannot be changed or deleted`, [
    { field: 'roleId', problem: 'built-in' },
  ]);
}

function customRole(s: RolesState, roleId: string) {
  if (BUILT_IN.has(roleId)) return refuse(builtInUnchangeable(roleId));
  return s.roles.get(roleId) ?? refuse(roleNotFound(roleId));
}

const isRole = (r: CustomRole | { refused: unknown }): r is CustomRole => 'roleId' in r;

function unknownPermissions(s: RolesState, permissions: readonly string[]): string[] {
  return permissions.filter((p) => !CATALOGUE_NAMES.has(p) && !s.permissions.has(p));
}

function unheld(granter: Granter, permissions: readonly string[]): string | undefined {
  if (granter.all) return undefined;
  return permissions.find((p) => !anyGrantCovers(granter.grants, p));
}

function decide(c: RolesCommand, s: RolesState) {
  switch (c.type) {
    case 'DefinePermission': {
      if (CATALOGUE_NAMES.has(c.name) || s.permissions.has(c.name))
        return refuse(
          new ConflictError(`permission ${c.name} exists`, [{ field: 'name', problem: 'taken' }]),
        );
      return [
        {
          type: 'PermissionDefined' as const,
          data: { orgId: c.orgId, name: c.name, description: c.description },
        },
      ];
    }
    case 'CreateRole': {
      if (BUILT_IN.has(c.roleId) || s.roles.has(c.roleId))
        return refuse(new ConflictError(`role ${c.roleId} exists`, [{ field: 'roleId', problem: 'taken' }]));
      const unknown = unknownPermissions(s, c.permissions);
      if (unknown.length)
        return refuse(
          new RuleViolationError(`unknown permissions: ${unknown.join(', ')}`, [
            { field: 'permissions', problem: 'unknown' },
          ]),
        );
      const missing = unheld(c.granter, c.permissions);
      if (missing) return refuse(notHeld(missing));
      const { type: _t, granter: _g, ...data } = c;
      return [{ type: 'RoleCreated' as const, data: { ...data, permissions: [...new Set(c.permissions)] } }];
    }
    case 'UpdateRole': {
      const role = customRole(s, c.roleId);
      if (!isRole(role)) return role;
      const name = c.name ?? role.name;
      const description = c.description ?? role.description;
      if (name === role.name && description === role.description) return [];
      return [
        { type: 'RoleUpdated' as const, data: { orgId: c.orgId, roleId: c.roleId, name, description } },
      ];
    }
    case 'DeleteRole': {
      const role = customRole(s, c.roleId);
      if (!isRole(role)) return role;
      return [{ type: 'RoleDeleted' as const, data: { orgId: c.orgId, roleId: c.roleId } }];
    }
    case 'AddRolePermission': {
      const role = customRole(s, c.roleId);
      if (!isRole(role)) return role;
      if (unknownPermissions(s, [c.permission]).length) return refuse(unknownPermission(c.permission));
      const missing = unheld(c.granter, [c.permission]);
      if (missing) return refuse(notHeld(missing));
      if (role.permissions.includes(c.permission)) return [];
      const { orgId, roleId, permission } = c;
      return [{ type: 'RolePermissionAdded' as const, data: { orgId, roleId, permission } }];
    }
    case 'RemoveRolePermission': {
      const role = customRole(s, c.roleId);
      if (!isRole(role)) return role;
      if (!role.permissions.includes(c.permission)) return [];
      const { orgId, roleId, permission } = c;
      return [{ type: 'RolePermissionRemoved' as const, data: { orgId, roleId, permission } }];
    }
    case 'AssignRole': {
      const grants = roleGrants(s, c.roleId);
      if (!grants) return refuse(roleNotFound(c.roleId));
      if (c.roleId === OWNER_ROLE && !c.granter.owner) return refuse(ownersOnly());
      const missing = unheld(c.granter, grants);
      if (missing) return refuse(notHeld(missing));
      const a = assignmentOf(c);
      if (s.assignments.some((b) => sameAssignment(a, b))) return [];
      return [{ type: 'RoleAssigned' as const, data: { orgId: c.orgId, ...a } }];
    }
    case 'RevokeRole': {
      const a = assignmentOf(c);
      if (!s.assignments.some((b) => sameAssignment(a, b))) return [];
      if (c.roleId === OWNER_ROLE) {
        if (!c.granter.owner) return refuse(ownersOnly());
        const owners = s.assignments.filter((b) => b.roleId === OWNER_ROLE && b.scope.type === 'org');
        if (a.scope.type === 'org' && owners.length <= 1)
          return refuse(
            new ConflictError('the last owner cannot be removed: make someone else owner first', [
              { field: 'roleId', problem: 'last owner' },
            ]),
          );
      }
      const missing = unheld(c.granter, roleGrants(s, c.roleId) ?? []);
      if (missing) return refuse(notHeld(missing));
      return [{ type: 'RoleRevoked' as const, data: { orgId: c.orgId, ...a } }];
    }
    case 'GrantAcl':
    case 'RevokeAcl': {
      const unknown = unknownPermissions(s, c.permissions);
      if (unknown.length)
        return refuse(
          new RuleViolationError(`unknown permissions: ${unknown.join(', ')}`, [
            { field: 'permissions', problem: 'unknown' },
          ]),
        );
      const missing = unheld(c.granter, c.permissions);
      if (missing) return refuse(notHeld(missing));
      const entry = aclOf(c);
      const held = s.acl.find((b) => sameAclTarget(entry, b))?.permissions ?? [];
      const changed =
        c.type === 'GrantAcl'
          ? entry.permissions.filter((p) => !held.includes(p))
          : entry.permissions.filter((p) => held.includes(p));
      if (!changed.length) return [];
      const data = { orgId: c.orgId, ...entry, permissions: changed };
      return c.type === 'GrantAcl'
        ? [{ type: 'AclGranted' as const, data }]
        : [{ type: 'AclRevoked' as const, data }];
    }
  }
}

function aclOf(c: AclEntry): AclEntry {
  return {
    resource: { type: c.resource.type, id: c.resource.id },
    principal: { type: c.principal.type, id: c.principal.id },
    permissions: [...new Set(c.permissions)],
  };
}

function unknownPermission(permission: string) {
  return new RuleViolationError(`unknown permission ${permission}`, [
    { field: 'permission', problem: 'unknown' },
  ]);
}

function ownersOnly() {
  return new ForbiddenError('only an owner assigns or revokes the owner role', [
    { field: 'roleId', problem: 'owners only' },
  ]);
}

function assignmentOf(c: Assignment): Assignment {
  const scope: RoleScope =
    c.scope.type === 'org' ? { type: 'org' } : { type: 'team', teamId: c.scope.teamId };
  return { principal: { type: c.principal.type, id: c.principal.id }, roleId: c.roleId, scope };
}

function evolve(s: RolesState, e: RolesEvent): RolesState {
  switch (e.type) {
    case 'PermissionDefined':
      return { ...s, permissions: new Map(s.permissions).set(e.data.name, e.data.description) };
    case 'RoleCreated': {
      const { orgId: _o, ...role } = e.data;
      return { ...s, roles: new Map(s.roles).set(role.roleId, role) };
    }
    case 'RoleUpdated':
    case 'RolePermissionAdded':
    case 'RolePermissionRemoved': {
      const role = s.roles.get(e.data.roleId);
      if (!role) return s;
      const next =
        e.type === 'RoleUpdated'
          ? { ...role, name: e.data.name, description: e.data.description }
          : e.type === 'RolePermissionAdded'
            ? { ...role, permissions: [...role.permissions, e.data.permission] }
            : { ...role, permissions: role.permissions.filter((p) => p !== e.data.permission) };
      return { ...s, roles: new Map(s.roles).set(role.roleId, next) };
    }
    case 'RoleDeleted': {
      const roles = new Map(s.roles);
      roles.delete(e.data.roleId);
      // A deleted role's assignments and the ACL entries granted to it go with it.
      const acl = s.acl.filter((b) => b.principal.type !== 'role' || b.principal.id !== e.data.roleId);
      return {
        ...s,
        roles,
        assignments: s.assignments.filter((a) => a.roleId !== e.data.roleId),
        acl,
      };
    }
    case 'RoleAssigned': {
      const { orgId: _o, ...a } = e.data;
      return { ...s, assignments: [...s.assignments, a] };
    }
    case 'RoleRevoked': {
      const { orgId: _o, ...a } = e.data;
      return { ...s, assignments: s.assignments.filter((b) => !sameAssignment(a, b)) };
    }
    case 'AclGranted':
    case 'AclRevoked': {
      const { orgId: _o, ...entry } = e.data;
      const old = s.acl.find((b) => sameAclTarget(entry, b))?.permissions ?? [];
      const permissions =
        e.type === 'AclGranted'
          ? [...old, ...entry.permissions.filter((p) => !old.includes(p))]
          : old.filter((p) => !entry.permissions.includes(p));
      const rest = s.acl.filter((b) => !sameAclTarget(entry, b));
      return { ...s, acl: permissions.length ? [...rest, { ...entry, permissions }] : rest };
    }
  }
}

/** An org's custom permissions, custom roles and role assignments (stream roles-<orgId>). */
export const rolesDecider: Decider<RolesCommand, RolesState, RolesEvent> = {
  initialState: () => ({ permissions: new Map(), roles: new Map(), assignments: [], acl: [] }),
  decide,
  evolve,
};
