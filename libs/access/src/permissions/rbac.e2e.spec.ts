import { randomUUID } from 'node:crypto';
import { ModulesContainer } from '@nestjs/core';
import { EVENT_STORE, EventStore } from '@purser/core';
import { REQUIRED_PERMISSION } from '@purser/platform';
import {
  Api,
  SignedIn,
  TestServer,
  apiClient,
  setUpInstance,
  signIn,
  signedInOrg,
  strongPassword,
  startTestServer,
} from '@purser/testkit';
import { AccessStreams } from '../streams';
import { CATALOGUE_NAMES } from './catalogue';

const quota = (orgId: string) => ({
  entityType: 'Org',
  entityId: orgId,
  metric: 'cost',
  period: 'none',
  limit: '100',
  currency: 'EUR',
});
const usage = (orgId: string, userId: string) => ({
  eventId: randomUUID(),
  orgId,
  userId,
  itemType: 'Agent',
  itemId: 'research-agent',
  amount: '0.25',
  currency: 'EUR',
  occurredAt: '2026-11-25T14:02:00Z',
});
const rate = { currency: 'USD', rate: '0.9', effectiveFrom: '2026-01-01T00:00:00Z' };

describe('roles and permissions: team scopes, API key scopes, custom roles, grants and owners (embedded engines)', () => {
  let server: TestServer;
  let root: SignedIn; // the setup owner: the instance administrator
  let orgId: string;
  let teamAdmin: SignedIn;
  let member: SignedIn;
  let admin: SignedIn;
  const team: Record<'engineering' | 'platform' | 'sales', string> = {
    engineering: '',
    platform: '',
    sales: '',
  };

  const user = (u: SignedIn) => ({ type: 'user' as const, id: u.userId });
  const assign = (api: Api, body: object) => api.put(`/v1/orgs/${orgId}/role-assignments`, body);
  const permissionCheck = (api: Api, body: object) => api.post('/v1/permission-checks', { orgId, ...body });

  async function createTeam(name: string, parentTeamId: string | null = null) {
    const res = await root.api.post(`/v1/orgs/${orgId}/teams`, { name, parentTeamId });
    expect(res.status).toBe(201);
    return res.body.id as string;
  }

  beforeAll(async () => {
    server = await startTestServer();
    root = await setUpInstance(server, { orgName: 'Acme' });
    orgId = root.orgId;
    team.engineering = await createTeam('Engineering');
    team.platform = await createTeam('Platform', team.engineering);
    team.sales = await createTeam('Sales');
    teamAdmin = await signedInOrg(server, root.api, { orgId, username: 'tom' });
    member = await signedInOrg(server, root.api, { orgId, username: 'mia' });
    admin = await signedInOrg(server, root.api, { orgId, username: 'ann' });
    const engineering = { type: 'team', teamId: team.engineering };
    expect(
      (await assign(root.api, { principal: user(teamAdmin), roleId: 'team-admin', scope: engineering }))
        .status,
    ).toBe(200);
    expect(
      (await assign(root.api, { principal: user(admin), roleId: 'admin', scope: { type: 'org' } })).status,
    ).toBe(200);
  });
  afterAll(async () => {
    await server?.stop();
    server?.cleanup();
  });

  it('given a team admin of Engineering, when renaming Platform below it, then 200; Sales beside it, then 403', async () => {
    const below = await teamAdmin.api.patch(`/v1/orgs/${orgId}/teams/${team.platform}`, {
      name: 'Platform Core',
    });
    expect(below.status).toBe(200);
    const beside = await teamAdmin.api.patch(`/v1/orgs/${orgId}/teams/${team.sales}`, { name: 'Taken' });
    expect(beside.status).toBe(403);
    expect(beside.body).toMatchObject({
      statusCode: 403,
      details: [{ field: 'permission', permission: 'team.manage' }],
    });
  });

  it('given a member (no role in the directory), when creating a quota, then 403; when reading the directory, then 200', async () => {
    const res = await member.api.post(`/v1/orgs/${orgId}/quotas`, quota(orgId));
    expect(res.status).toBe(403);
    expect((await member.api.get(`/v1/orgs/${orgId}/teams`)).status).toBe(200);
    expect((await member.api.get('/v1/me')).status).toBe(200);
  });

  it('given an API key scoped to usage.record, when recording usage, then 201; creating a team, then 403 though its owner may', async () => {
    const created = await root.api.post(`/v1/orgs/${orgId}/api-keys`, {
      name: 'meter',
      owner: user(admin),
      scopes: ['usage.record'],
    });
    expect(created.status).toBe(201);
    const key = apiClient(server.url, { authorization: `Bearer ${created.body.key}` });
    expect((await key.post('/v1/usage', usage(orgId, admin.userId))).status).toBe(201);
    expect((await key.post(`/v1/orgs/${orgId}/teams`, { name: 'By key' })).status).toBe(403);
    expect((await admin.api.post(`/v1/orgs/${orgId}/teams`, { name: 'By owner' })).status).toBe(201);
  });

  it('given a custom role with one permission, when assigned to a member, then they may do that and nothing more', async () => {
    expect((await member.api.post(`/v1/orgs/${orgId}/exchange-rates`, rate)).status).toBe(403);
    const role = await root.api.post(`/v1/orgs/${orgId}/roles`, {
      name: 'rate setter',
      permissions: ['rate.manage'],
    });
    expect(role.status).toBe(201);
    expect(role.body).toMatchObject({ name: 'rate setter', permissions: ['rate.manage'], builtIn: false });
    const assigned = await assign(root.api, {
      principal: user(member),
      roleId: role.body.roleId,
      scope: { type: 'org' },
    });
    expect(assigned.status).toBe(200);
    const [event] = (
      await server.app.get<EventStore>(EVENT_STORE).readStream(AccessStreams.roles(orgId))
    ).filter((e) => e.type === 'RoleAssigned' && (e.data as { roleId: string }).roleId === role.body.roleId);
    expect(event.metadata.actor).toMatchObject({ type: 'user', id: root.userId });
    expect((await member.api.post(`/v1/orgs/${orgId}/exchange-rates`, rate)).status).toBe(201);
    expect((await member.api.post(`/v1/orgs/${orgId}/quotas`, quota(orgId))).status).toBe(403);
  });

  it('given a member who may manage roles, when granting admin (which they do not hold), then 403 and nothing is assigned', async () => {
    const role = await root.api.post(`/v1/orgs/${orgId}/roles`, {
      name: 'role keeper',
      permissions: ['role.manage', 'role.read'],
    });
    await assign(root.api, { principal: user(member), roleId: role.body.roleId, scope: { type: 'org' } });
    const res = await assign(member.api, {
      principal: user(member),
      roleId: 'admin',
      scope: { type: 'org' },
    });
    expect(res.status).toBe(403);
    expect(res.body.message).toMatch(/do not hold/);
    const list = await root.api.get(`/v1/orgs/${orgId}/role-assignments`);
    expect(list.body.items).not.toContainEqual(
      expect.objectContaining({ principal: user(member), roleId: 'admin' }),
    );
  });

  it('given an org whose only owner is an assignment, when revoking it, then 409; with a second owner, then 204', async () => {
    const org = await server.api.post('/v1/orgs', { name: 'Solo', baseCurrency: 'EUR', timeZone: 'UTC' });
    const soloOrg = org.body.id as string;
    const ids: string[] = [];
    for (const username of ['olga', 'otto']) {
      const u = await server.api.post(`/v1/orgs/${soloOrg}/users`, {
        username,
        email: `${username}@solo.test`,
      });
      ids.push(u.body.id);
    }
    const owner = (id: string) => ({
      principal: { type: 'user', id },
      roleId: 'owner',
      scope: { type: 'org' },
    });
    const path = `/v1/orgs/${soloOrg}/role-assignments`;
    expect((await server.api.put(path, owner(ids[0]))).status).toBe(200);
    const last = await server.api.raw('DELETE', path, owner(ids[0]));
    expect(last.status).toBe(409);
    expect(last.body.message).toMatch(/last owner/);
    expect((await server.api.put(path, owner(ids[1]))).status).toBe(200);
    expect((await server.api.raw('DELETE', path, owner(ids[0]))).status).toBe(204);
  });

  it('given roles at scopes, when checking a permission, then the answer names the roles it comes through', async () => {
    const check = (api: Api, body: object) => api.post('/v1/permission-checks', { orgId, ...body });
    const below = await check(root.api, {
      principal: user(teamAdmin),
      permission: 'team.manage',
      teamId: team.platform,
    });
    expect(below.status).toBe(200);
    expect(below.body).toEqual({
      allowed: true,
      via: [{ roleId: 'team-admin', scope: { type: 'team', teamId: team.engineering } }],
    });
    const beside = await check(root.api, {
      principal: user(teamAdmin),
      permission: 'team.manage',
      teamId: team.sales,
    });
    expect(beside.body).toEqual({ allowed: false, via: [] });
    const own = await check(teamAdmin.api, { principal: user(teamAdmin), permission: 'usage.record' });
    expect(own.body).toEqual({ allowed: true, via: [{ roleId: 'member', scope: { type: 'org' } }] });
    expect((await check(teamAdmin.api, { principal: user(member), permission: 'usage.record' })).status).toBe(
      403,
    );
  });

  it('given a user assigned auditor org-wide, when reading, then 200; when changing anything, then 403; their own account stays theirs', async () => {
    const created = await root.api.post(`/v1/orgs/${orgId}/users`, {
      username: 'audrey',
      email: 'audrey@acme.test',
    });
    expect(created.status).toBe(201);
    const assigned = await assign(root.api, {
      principal: { type: 'user', id: created.body.id },
      roleId: 'auditor',
      scope: { type: 'org' },
    });
    expect(assigned.status).toBe(200);
    const password = strongPassword();
    await root.api.put(`/v1/orgs/${orgId}/users/${created.body.id}/password`, { password });
    const auditor = await signIn(server, { orgId, userId: created.body.id, username: 'audrey', password });
    expect((await auditor.api.get(`/v1/orgs/${orgId}/role-assignments`)).status).toBe(200);
    expect((await auditor.api.get(`/v1/orgs/${orgId}/teams`)).status).toBe(200);
    expect((await auditor.api.get('/v1/me')).status).toBe(200);
    expect((await auditor.api.post(`/v1/orgs/${orgId}/teams`, { name: 'Audit' })).status).toBe(403);
    expect((await auditor.api.post('/v1/usage', usage(orgId, created.body.id))).status).toBe(403);
  });

  it("given an admin who writes a user's directory role_id as owner, then the user gains nothing: roles are assignments", async () => {
    const eve = await signedInOrg(server, root.api, { orgId, username: 'eve' });
    const roleOwner = await admin.api.patch(`/v1/orgs/${orgId}/users/${eve.userId}`, { roleId: 'owner' });
    expect(roleOwner.status).toBe(200);
    const res = await permissionCheck(root.api, { principal: user(eve), permission: 'role.manage' });
    expect(res.body).toEqual({ allowed: false, via: [] });
    expect((await eve.api.post(`/v1/orgs/${orgId}/teams`, { name: 'Escalated' })).status).toBe(403);
  });

  it('given every route of the server, then each permission it requires is in the catalogue', () => {
    const required = new Set<string>();
    for (const module of server.app.get(ModulesContainer).values())
      for (const { metatype } of module.controllers.values()) {
        const proto = (metatype as { prototype: Record<string, unknown> }).prototype;
        for (const name of Object.getOwnPropertyNames(proto)) {
          const permission = Reflect.getMetadata(REQUIRED_PERMISSION, proto[name] as object) as
            string | undefined;
          if (permission) required.add(permission);
        }
      }
    expect(required.size).toBeGreaterThan(15);
    expect([...required].filter((p) => !CATALOGUE_NAMES.has(p))).toEqual([]);
  });

  it('given the catalogue, when listing permissions, then every permission the routes declare is there', async () => {
    const res = await teamAdmin.api.get('/v1/permissions');
    expect(res.status).toBe(200);
    const names = res.body.items.map((p: { name: string }) => p.name);
    for (const p of [
      'team.manage',
      'quota.check',
      'usage.record',
      'apikey.manage',
      'self',
      'role.manage',
      'audit.read',
    ])
      expect(names).toContain(p);
    const custom = await root.api.post(`/v1/orgs/${orgId}/permissions`, {
      name: 'acme.tool.run',
      description: 'Run',
    });
    expect(custom.status).toBe(201);
    const clash = await root.api.post(`/v1/orgs/${orgId}/permissions`, {
      name: 'usage.read',
      description: 'x',
    });
    expect(clash.status).toBe(409);
  });
});
