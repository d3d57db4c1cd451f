import { ConflictError, ForbiddenError, NotFoundError, RuleViolationError } from '@purser/core';
import { given } from '@purser/testkit';
import { grantCovers } from './catalogue';
import { Granter, RolesEvent, rolesDecider } from './roles.decider';

const everything: Granter = { all: true, grants: [], owner: true };
const admin: Granter = { all: true, grants: [], owner: false };
const reader: Granter = { all: false, grants: ['*.read', 'role.manage'], owner: false };
const alice = { type: 'user' as const, id: 'alice' };
const org = { type: 'org' as const };

const created: RolesEvent = {
  type: 'RoleCreated',
  data: { orgId: 'o1', roleId: 'r1', name: 'ops', description: '', permissions: ['usage.read'] },
};
const aliceOwner: RolesEvent = {
  type: 'RoleAssigned',
  data: { orgId: 'o1', principal: alice, roleId: 'owner', scope: org },
};

describe('roles decider (stream roles-<orgId>)', () => {
  it('given a catalogue permission, when defining a custom one of that name, then 409; a new name, then PermissionDefined', () => {
    given(rolesDecider)
      .when({ type: 'DefinePermission', orgId: 'o1', name: 'usage.read', description: 'x' })
      .thenRefuses(ConflictError, /exists/);
    given(rolesDecider)
      .when({ type: 'DefinePermission', orgId: 'o1', name: 'acme.tool.run', description: 'Run the tool' })
      .then([
        {
          type: 'PermissionDefined',
          data: { orgId: 'o1', name: 'acme.tool.run', description: 'Run the tool' },
        },
      ]);
  });

  it('given a granter holding only reads, when creating a role with quota.manage, then 403; with usage.read, then RoleCreated', () => {
    const role = { orgId: 'o1', roleId: 'r1', name: 'ops', description: '' };
    const base = { type: 'CreateRole' as const, ...role };
    given(rolesDecider)
      .when({ ...base, permissions: ['quota.manage'], granter: reader })
      .thenRefuses(ForbiddenError, /do not hold/);
    given(rolesDecider)
      .when({ ...base, permissions: ['usage.read'], granter: reader })
      .then([{ type: 'RoleCreated', data: { ...role, permissions: ['usage.read'] } }]);
  });

  it('given no such permission, when creating a role with it, then 422; a custom one defined, then RoleCreated', () => {
    const cmd = {
      type: 'CreateRole' as const,
      orgId: 'o1',
      roleId: 'r1',
      name: 'tools',
      description: '',
      permissions: ['acme.tool.run'],
      granter: everything,
    };
    given(rolesDecider)
      .when(cmd)
      .thenRefuses(RuleViolationError, /unknown/);
    given(rolesDecider, [
      { type: 'PermissionDefined', data: { orgId: 'o1', name: 'acme.tool.run', description: 'Run' } },
    ])
      .when(cmd)
      .then([{ type: 'RoleCreated' }]);
  });

  it('given the built-in roles, when deleting or changing one, then 409; a custom role, then its events', () => {
    given(rolesDecider).when({ type: 'DeleteRole', orgId: 'o1', roleId: 'owner' }).thenRefuses(ConflictError);
    given(rolesDecider)
      .when({ type: 'RemoveRolePermission', orgId: 'o1', roleId: 'member', permission: 'self' })
      .thenRefuses(ConflictError, /built-in/);
    given(rolesDecider).when({ type: 'DeleteRole', orgId: 'o1', roleId: 'nope' }).thenRefuses(NotFoundError);
    given(rolesDecider, [created])
      .when({
        type: 'AddRolePermission',
        orgId: 'o1',
        roleId: 'r1',
        permission: 'quota.read',
        granter: everything,
      })
      .then([{ type: 'RolePermissionAdded', data: { orgId: 'o1', roleId: 'r1', permission: 'quota.read' } }]);
    given(rolesDecider, [created])
      .when({ type: 'RemoveRolePermission', orgId: 'o1', roleId: 'r1', permission: 'usage.read' })
      .then([
        { type: 'RolePermissionRemoved', data: { orgId: 'o1', roleId: 'r1', permission: 'usage.read' } },
      ]);
  });

  it('given a role deleted, then its assignments go with it', () => {
    const s = given(rolesDecider, [
      created,
      { type: 'RoleAssigned', data: { orgId: 'o1', principal: alice, roleId: 'r1', scope: org } },
      { type: 'RoleDeleted', data: { orgId: 'o1', roleId: 'r1' } },
    ]).state;
    expect(s.roles.size).toBe(0);
    expect(s.assignments).toEqual([]);
  });

  it('given an admin, when assigning owner, then 403; an owner, then RoleAssigned; again, then nothing', () => {
    const assign = {
      type: 'AssignRole' as const,
      orgId: 'o1',
      principal: alice,
      roleId: 'owner',
      scope: org,
    };
    given(rolesDecider)
      .when({ ...assign, granter: admin })
      .thenRefuses(ForbiddenError, /only an owner/);
    given(rolesDecider)
      .when({ ...assign, granter: everything })
      .then([{ type: 'RoleAssigned', data: { orgId: 'o1', principal: alice, roleId: 'owner', scope: org } }]);
    given(rolesDecider, [aliceOwner])
      .when({ ...assign, granter: everything })
      .thenNothing();
  });

  it('given a granter with reads only, when assigning admin, then 403 (no one grants what they do not hold)', () => {
    given(rolesDecider)
      .when({
        type: 'AssignRole',
        orgId: 'o1',
        principal: alice,
        roleId: 'admin',
        scope: org,
        granter: reader,
      })
      .thenRefuses(ForbiddenError, /do not hold/);
  });

  it('given one owner assignment, when revoking it, then 409; with a second owner, then RoleRevoked', () => {
    const revoke = {
      type: 'RevokeRole' as const,
      orgId: 'o1',
      principal: alice,
      roleId: 'owner',
      scope: org,
      granter: everything,
    };
    given(rolesDecider, [aliceOwner])
      .when(revoke)
      .thenRefuses(ConflictError, /last owner/);
    given(rolesDecider, [
      aliceOwner,
      {
        type: 'RoleAssigned',
        data: { orgId: 'o1', principal: { type: 'user', id: 'bob' }, roleId: 'owner', scope: org },
      },
    ])
      .when(revoke)
      .then([{ type: 'RoleRevoked' }]);
  });

  it('given grants, then usage.* covers usage.record, *.read every read, * everything, and nothing else', () => {
    expect(grantCovers('usage.*', 'usage.record')).toBe(true);
    expect(grantCovers('usage.*', 'quota.check')).toBe(false);
    expect(grantCovers('*.read', 'audit.read')).toBe(true);
    expect(grantCovers('*.read', 'user.manage')).toBe(false);
    expect(grantCovers('*', 'acme.tool.run')).toBe(true);
    expect(grantCovers('usage.record', 'usage.read')).toBe(false);
  });

  describe('ACLs (per-resource grants)', () => {
    const quotaQ1 = { type: 'quota' as const, id: 'q1' };
    const mia = { type: 'user' as const, id: 'mia' };
    const grant = {
      type: 'GrantAcl' as const,
      orgId: 'o1',
      resource: quotaQ1,
      principal: mia,
      permissions: ['quota.manage'],
    };
    const granted: RolesEvent = {
      type: 'AclGranted',
      data: { orgId: 'o1', resource: quotaQ1, principal: mia, permissions: ['quota.manage'] },
    };
    const aclOf = (events: RolesEvent[]) =>
      events.reduce(rolesDecider.evolve, rolesDecider.initialState()).acl;

    it('given a granter who does not hold quota.manage there, when granting it on a quota, then 403; one who does, then AclGranted', () => {
      given(rolesDecider)
        .when({ ...grant, granter: reader })
        .thenRefuses(ForbiddenError, /do not hold/);
      given(rolesDecider)
        .when({ ...grant, granter: { all: false, grants: ['quota.*'], owner: false } })
        .then([granted]);
    });

    it('given an unknown permission, when granting it, then 422', () => {
      given(rolesDecider)
        .when({ ...grant, permissions: ['acme.nothing'], granter: everything })
        .thenRefuses(RuleViolationError, /unknown/);
    });

    it('given a grant, when granting it again with one more permission, then only the new one is granted; the entry holds both', () => {
      given(rolesDecider, [granted])
        .when({ ...grant, granter: everything })
        .thenNothing();
      given(rolesDecider, [granted])
        .when({ ...grant, permissions: ['quota.manage', 'quota.read'], granter: everything })
        .then([{ type: 'AclGranted', data: { ...granted.data, permissions: ['quota.read'] } }]);
      const more: RolesEvent = {
        type: 'AclGranted',
        data: { ...granted.data, permissions: ['quota.read'] },
      };
      expect(aclOf([granted, more])).toEqual([
        { resource: quotaQ1, principal: mia, permissions: ['quota.manage', 'quota.read'] },
      ]);
    });

    it('given a grant, when revoking it, then AclRevoked and the entry is gone; revoking what is not granted, then nothing', () => {
      const revoke = { ...grant, type: 'RevokeAcl' as const, granter: everything };
      given(rolesDecider, [granted])
        .when(revoke)
        .then([{ type: 'AclRevoked', data: granted.data }]);
      given(rolesDecider).when(revoke).thenNothing();
      expect(aclOf([granted, { type: 'AclRevoked', data: granted.data }])).toEqual([]);
      given(rolesDecider, [granted])
        .when({ ...revoke, granter: reader })
        .thenRefuses(ForbiddenError, /do not hold/);
    });

    it('given an ACL entry granted to a custom role, when the role is deleted, then the entry goes with it', () => {
      const toRole: RolesEvent = {
        type: 'AclGranted',
        data: { ...granted.data, principal: { type: 'role', id: 'r1' } },
      };
      const deleted: RolesEvent = { type: 'RoleDeleted', data: { orgId: 'o1', roleId: 'r1' } };
      expect(aclOf([created, toRole, granted, deleted])).toEqual([
        { resource: quotaQ1, principal: mia, permissions: ['quota.manage'] },
      ]);
    });
  });
});
