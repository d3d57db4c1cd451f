import { randomUUID } from 'node:crypto';
import { CommandExecutor, DomainEvent, EVENT_STORE, EventStore, SYSTEM_ACTOR } from '@purser/core';
import {
  Api,
  SignedIn,
  TestServer,
  apiClient,
  setUpInstance,
  signedInOrg,
  startTestServer,
  world,
} from '@purser/testkit';
import { AccessStreams } from '../streams';

const quota = (orgId: string, period = 'none') => ({
  entityType: 'Org',
  entityId: orgId,
  metric: 'cost',
  period,
  limit: '100',
  currency: 'EUR',
});
const ago = (hours: number) => new Date(Date.now() - hours * 3_600_000).toISOString();

describe('ACLs (per-resource grants beside roles) and point-in-time answers (embedded engines)', () => {
  let server: TestServer;
  let root: SignedIn;
  let orgId: string;
  let member: SignedIn;
  let teamAdmin: SignedIn;
  let outsider: SignedIn;
  const team = { engineering: '', platform: '', sales: '' };

  const user = (u: SignedIn) => ({ type: 'user' as const, id: u.userId });
  const acl = (api: Api, body: object) => api.put(`/v1/orgs/${orgId}/acl`, body);
  const check = (api: Api, body: object) => api.post('/v1/permission-checks', { orgId, ...body });

  /** Appends events as they happened at an instant (the roles and directory streams' history). */
  async function seedAt(now: string, streamId: string, events: DomainEvent[]) {
    const executor = server.app.get(CommandExecutor);
    const ctx = { actor: SYSTEM_ACTOR, correlationId: 'history', now };
    await server.app
      .get<EventStore>(EVENT_STORE)
      .append(streamId, executor.toAppend(events, ctx, orgId), 'any');
  }

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
    member = await signedInOrg(server, root.api, { orgId, username: 'mia' });
    teamAdmin = await signedInOrg(server, root.api, { orgId, username: 'tom' });
    outsider = await signedInOrg(server, root.api, { orgId, username: 'otto' });
    const assign = (principal: object, roleId: string, scope: object) =>
      root.api.put(`/v1/orgs/${orgId}/role-assignments`, { principal, roleId, scope });
    const engineering = { type: 'team', teamId: team.engineering };
    expect((await assign(user(teamAdmin), 'team-admin', engineering)).status).toBe(200);
    // An outsider: an org-wide role without team.read (it replaces member).
    const rates = await root.api.post(`/v1/orgs/${orgId}/roles`, {
      name: 'rates',
      permissions: ['rate.read'],
    });
    expect((await assign(user(outsider), rates.body.roleId, { type: 'org' })).status).toBe(200);
  });
  afterAll(async () => {
    await server?.stop();
    server?.cleanup();
  });

  it('given an ACL granting a member quota.manage on one quota, when they change it, then 200; another quota, then 403', async () => {
    const one = await root.api.post(`/v1/orgs/${orgId}/quotas`, quota(orgId));
    const other = await root.api.post(`/v1/orgs/${orgId}/quotas`, quota(orgId, 'month'));
    expect([one.status, other.status]).toEqual([201, 201]);
    const entry = {
      resource: { type: 'quota', id: one.body.id },
      principal: user(member),
      permissions: ['quota.manage'],
    };
    expect((await member.api.patch(`/v1/orgs/${orgId}/quotas/${one.body.id}`, { limit: '5' })).status).toBe(
      403,
    );
    const granted = await acl(root.api, entry);
    expect(granted.status).toBe(200);
    expect(granted.body).toEqual(entry);
    const [event] = (
      await server.app.get<EventStore>(EVENT_STORE).readStream(AccessStreams.roles(orgId))
    ).filter((e) => e.type === 'AclGranted');
    expect(event.data).toEqual({ orgId, ...entry });
    expect(event.metadata.actor).toMatchObject({ type: 'user', id: root.userId });

    expect((await member.api.patch(`/v1/orgs/${orgId}/quotas/${one.body.id}`, { limit: '5' })).status).toBe(
      200,
    );
    const denied = await member.api.patch(`/v1/orgs/${orgId}/quotas/${other.body.id}`, { limit: '5' });
    expect(denied.status).toBe(403);
    expect(denied.body).toMatchObject({ details: [{ field: 'permission', permission: 'quota.manage' }] });
    const why = await check(root.api, {
      principal: user(member),
      permission: 'quota.manage',
      resource: { type: 'quota', id: one.body.id },
    });
    expect(why.body).toEqual({
      allowed: true,
      via: [{ acl: { resource: entry.resource, principal: user(member) } }],
    });

    expect((await root.api.raw('DELETE', `/v1/orgs/${orgId}/acl`, entry)).status).toBe(204);
    expect((await member.api.patch(`/v1/orgs/${orgId}/quotas/${one.body.id}`, { limit: '6' })).status).toBe(
      403,
    );
  });

  it('given ACL entries granted to API keys, when a key acts on the quota, then its scopes narrow the grant as they narrow roles', async () => {
    const q = await root.api.post(`/v1/orgs/${orgId}/quotas`, quota(orgId, 'day'));
    expect(q.status).toBe(201);
    const keyWith = async (scopes: string[]) => {
      const created = await root.api.post(`/v1/orgs/${orgId}/api-keys`, {
        name: `key ${scopes.join(' ')}`,
        owner: user(member),
        scopes,
      });
      expect(created.status).toBe(201);
      const grant = await acl(root.api, {
        resource: { type: 'quota', id: q.body.id },
        principal: { type: 'apiKey', id: created.body.keyId },
        permissions: ['quota.manage'],
      });
      expect(grant.status).toBe(200);
      return apiClient(server.url, { authorization: `Bearer ${created.body.key}` });
    };
    const narrow = await keyWith(['quota.read']);
    const wide = await keyWith(['quota.*']);
    const path = `/v1/orgs/${orgId}/quotas/${q.body.id}`;
    expect((await narrow.patch(path, { limit: '7' })).status).toBe(403);
    expect((await wide.patch(path, { limit: '7' })).status).toBe(200);
  });

  it('given a team outsider, when reading a team, then 403; with an ACL granting team.read on it, then 200, and still 403 on another', async () => {
    const sales = `/v1/orgs/${orgId}/teams/${team.sales}`;
    expect((await outsider.api.get(sales)).status).toBe(403);
    const entry = {
      resource: { type: 'team', id: team.sales },
      principal: user(outsider),
      permissions: ['team.read'],
    };
    expect((await acl(root.api, entry)).status).toBe(200);
    expect((await outsider.api.get(sales)).status).toBe(200);
    expect((await outsider.api.get(`/v1/orgs/${orgId}/teams/${team.engineering}`)).status).toBe(403);
    const list = await root.api.get(`/v1/orgs/${orgId}/acl`);
    expect(list.status).toBe(200);
    expect(list.body.items).toContainEqual(entry);
    expect((await outsider.api.get(`/v1/orgs/${orgId}/acl`)).status).toBe(403);
  });

  it('given a team admin who may manage roles, when granting on a team below theirs, then 200; on a team beside it, then 403', async () => {
    const keeper = await root.api.post(`/v1/orgs/${orgId}/roles`, {
      name: 'acl keeper',
      permissions: ['role.manage'],
    });
    const put = await root.api.put(`/v1/orgs/${orgId}/role-assignments`, {
      principal: user(teamAdmin),
      roleId: keeper.body.roleId,
      scope: { type: 'org' },
    });
    expect(put.status).toBe(200);
    const on = (teamId: string) => ({
      resource: { type: 'team', id: teamId },
      principal: user(member),
      permissions: ['team.manage'],
    });
    expect((await acl(teamAdmin.api, on(team.platform))).status).toBe(200);
    const beside = await acl(teamAdmin.api, on(team.sales));
    expect(beside.status).toBe(403);
    expect(beside.body.message).toMatch(/do not hold/);
    const list = await root.api.get(`/v1/orgs/${orgId}/acl`);
    expect(list.body.items).toContainEqual(on(team.platform));
    expect(list.body.items).not.toContainEqual(on(team.sales));

    // An ACL entry granted to a role: every holder of the role holds it on that resource.
    const sales = `/v1/orgs/${orgId}/teams/${team.sales}`;
    expect((await teamAdmin.api.patch(sales, { name: 'Sales EU' })).status).toBe(403);
    const toRole = {
      resource: { type: 'team', id: team.sales },
      principal: { type: 'role', id: keeper.body.roleId },
      permissions: ['team.manage'],
    };
    expect((await acl(root.api, toRole)).status).toBe(200);
    expect((await teamAdmin.api.patch(sales, { name: 'Sales EU' })).status).toBe(200);
  });

  it('given a role assigned two days ago and revoked an hour ago, when checking as of yesterday, then allowed; now, then refused', async () => {
    const userId = randomUUID();
    const made = world.user(orgId, userId);
    await seedAt(ago(72), made.streamId, made.events);
    const assignment = {
      orgId,
      principal: { type: 'user', id: userId },
      roleId: 'admin',
      scope: { type: 'org' },
    };
    await seedAt(ago(48), AccessStreams.roles(orgId), [{ type: 'RoleAssigned', data: assignment }]);
    await seedAt(ago(1), AccessStreams.roles(orgId), [{ type: 'RoleRevoked', data: assignment }]);
    const body = { principal: { type: 'user', id: userId }, permission: 'quota.manage' };

    const then = await check(root.api, { ...body, asOf: ago(24) });
    expect(then.status).toBe(200);
    expect(then.body).toEqual({ allowed: true, via: [{ roleId: 'admin', scope: { type: 'org' } }] });
    expect((await check(root.api, body)).body).toEqual({ allowed: false, via: [] });
    expect((await check(root.api, { ...body, asOf: ago(96) })).body).toEqual({ allowed: false, via: [] });

    const listed = await root.api.get(
      `/v1/orgs/${orgId}/role-assignments?asOf=${encodeURIComponent(ago(24))}`,
    );
    expect(listed.body.items).toContainEqual({
      principal: assignment.principal,
      roleId: 'admin',
      scope: { type: 'org' },
    });
    const now = await root.api.get(`/v1/orgs/${orgId}/role-assignments`);
    expect(now.body.items).not.toContainEqual(expect.objectContaining({ principal: assignment.principal }));
    const bad = await check(root.api, { ...body, asOf: 'yesterday' });
    expect(bad.status).toBe(400);
    expect(bad.body.details).toEqual([expect.objectContaining({ field: 'asOf' })]);
  });

  it('given a team-scope grant on a team and a team moved out from below it since, when checking as of before the move, then covered; now, then not', async () => {
    const [parent, moved, elsewhere, userId] = [randomUUID(), randomUUID(), randomUUID(), randomUUID()];
    await seedAt(ago(72), `teams-${orgId}`, [
      ...world.teams(orgId, [
        { teamId: parent, name: 'Research' },
        { teamId: moved, name: 'Lab', parentTeamId: parent },
        { teamId: elsewhere, name: 'Ops' },
      ]).events,
    ]);
    const made = world.user(orgId, userId);
    await seedAt(ago(72), made.streamId, made.events);
    const grant = {
      orgId,
      principal: { type: 'user', id: userId },
      roleId: 'team-admin',
      scope: { type: 'team', teamId: parent },
    };
    await seedAt(ago(48), AccessStreams.roles(orgId), [{ type: 'RoleAssigned', data: grant }]);
    await seedAt(ago(2), `teams-${orgId}`, [
      {
        type: 'TeamMoved',
        data: { orgId, teamId: moved, fromParentTeamId: parent, toParentTeamId: elsewhere },
      },
    ]);
    const body = { principal: { type: 'user', id: userId }, permission: 'team.manage', teamId: moved };

    expect((await check(root.api, { ...body, asOf: ago(24) })).body).toEqual({
      allowed: true,
      via: [{ roleId: 'team-admin', scope: { type: 'team', teamId: parent } }],
    });
    expect((await check(root.api, body)).body).toEqual({ allowed: false, via: [] });
  });
});
