import { Permission } from '@purser/core';

/** A permission a route declares (@Requires) or an org defines for its agents and tools, with what it allows. */
export interface PermissionEntry {
  name: Permission;
  description: string;
}

/** Every permission the routes declare, and the ones roles and audits need: the catalogue, as code. */
export const PERMISSION_CATALOGUE: readonly PermissionEntry[] = [
  { name: 'org.create', description: 'Create orgs (the instance administrator only)' },
  { name: 'org.read', description: 'Read the org, its settings and its sign-in policy' },
  { name: 'org.manage', description: 'Change or delete the org and its sign-in policy' },
  { name: 'team.read', description: 'Read teams and the team tree' },
  { name: 'team.manage', description: 'Create, rename, move and delete teams' },
  { name: 'user.read', description: 'Read users' },
  {
    name: 'user.manage',
    description: 'Create, change, deactivate and delete users; their passwords, locks and MFA',
  },
  { name: 'usage.record', description: 'Record usage' },
  { name: 'usage.read', description: 'Read usage and its reports' },
  { name: 'rate.read', description: 'Read rates' },
  { name: 'rate.manage', description: 'Set rates' },
  { name: 'quota.read', description: 'Read quotas and their consumption' },
  { name: 'quota.manage', description: 'Create, change and delete quotas' },
  { name: 'quota.check', description: 'Check and reserve against quotas' },
  { name: 'session.manage', description: "List and end other users' sessions" },
  { name: 'apikey.manage', description: 'Create, rotate, revoke and read API keys' },
  { name: 'self', description: "A signed-in user's own profile, password, sessions and MFA" },
  { name: 'role.read', description: 'Read roles, assignments and permission checks of others' },
  {
    name: 'role.manage',
    description: 'Create, change and delete roles and custom permissions; assign roles',
  },
  { name: 'audit.read', description: 'Read the audit trail' },
  { name: 'permission.read', description: 'List the permissions (every built-in role holds it)' },
];

export const CATALOGUE_NAMES: ReadonlySet<Permission> = new Set(PERMISSION_CATALOGUE.map((p) => p.name));

/** A custom permission's name: dotted lower-case words, e.g. acme.tool.run. */
export const CUSTOM_PERMISSION_PATTERN = /^[a-z][a-z0-9-]{0,31}(\.[a-z][a-z0-9-]{0,31}){1,4}$/;

/**
 * Whether a grant (a permission, `family.*`, `*.read`, or `*`) covers a permission. `usage.*` covers usage.record and
 * usage.read; `*.read` covers every read; `*` everything.
 */
export function grantCovers(grant: string, permission: Permission): boolean {
  if (grant === '*' || grant === permission) return true;
  if (grant.endsWith('.*')) return permission.startsWith(grant.slice(0, -1));
  if (grant.startsWith('*.')) return permission.endsWith(grant.slice(1));
  return false;
}

export const anyGrantCovers = (grants: readonly string[], permission: Permission): boolean =>
  grants.some((g) => grantCovers(g, permission));

/** The roles every org has without creating them; they cannot be deleted or changed. */
export interface BuiltInRole {
  roleId: string;
  name: string;
  description: string;
  grants: readonly string[];
}

const DIRECTORY_READS = ['org.read', 'team.read', 'user.read'];

export const BUILT_IN_ROLES: readonly BuiltInRole[] = [
  { roleId: 'owner', name: 'Owner', description: 'Everything', grants: ['*'] },
  {
    roleId: 'admin',
    name: 'Administrator',
    description: 'Everything but assigning or revoking the owner role',
    grants: ['*'],
  },
  {
    roleId: 'team-admin',
    name: 'Team administrator',
    description: 'Teams, users and quotas within its scope, and every read',
    grants: ['team.*', 'user.*', 'quota.*', '*.read'],
  },
  {
    roleId: 'member',
    name: 'Member',
    description: "Reads of the org's directory, their own profile, usage and quotas",
    grants: [
      ...DIRECTORY_READS,
      'self',
      'usage.record',
      'usage.read',
      'quota.check',
      'quota.read',
      'permission.read',
    ],
  },
  { roleId: 'auditor', name: 'Auditor', description: 'Every read and the audit trail', grants: ['*.read'] },
  {
    roleId: 'agent',
    name: 'Agent',
    description: 'Record usage, check quotas, read quotas and rates',
    grants: ['usage.record', 'quota.check', 'quota.read', 'rate.read', 'permission.read'],
  },
];

export const BUILT_IN = new Map(BUILT_IN_ROLES.map((r) => [r.roleId, r]));

/** A signed-in user's own account: every user of the org holds it, whatever their roles. */
export const SELF = 'self';
/** Roles only an owner may assign or revoke. */
export const OWNER_ROLE = 'owner';
/** A user the directory names with no role is a member, and so is a team-owned API key. */
export const DEFAULT_USER_ROLE = 'member';
export const DEFAULT_TEAM_KEY_ROLE = 'member';
