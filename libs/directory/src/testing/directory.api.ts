import { Api, TestServer } from '@purser/testkit';

/**
 * The directory's API spec over HTTP: given streams, when a request, then the response and the appended events.
 * Runs on the embedded engines (directory.e2e.spec.ts) and on the production adapters (directory.production.int.spec.ts).
 */
export function directoryApiSpec(start: (dataDir?: string) => Promise<TestServer>) {
  let server: TestServer;
  let api: Api;
  const unique = () => Math.random().toString(36).slice(2, 8);

  beforeAll(async () => {
    server = await start();
    api = server.api;
  });
  afterAll(async () => {
    await server?.stop();
    server?.cleanup();
  });

  const head = async () => (await api.get('/health')).body.head as string;

  async function createOrg(name = `Acme ${unique()}`, extra: Record<string, unknown> = {}) {
    const res = await api.post('/v1/orgs', { name, baseCurrency: 'EUR', timeZone: 'Europe/Paris', ...extra });
    expect(res.status).toBe(201);
    return res.body as { id: string; position: string; revision: string };
  }
  async function createTeam(orgId: string, name: string, parentTeamId?: string) {
    const res = await api.post(`/v1/orgs/${orgId}/teams`, {
      name,
      ...(parentTeamId ? { parentTeamId } : {}),
    });
    expect(res.status).toBe(201);
    return res.body as { id: string; position: string };
  }
  async function createUser(orgId: string, username: string, extra: Record<string, unknown> = {}) {
    const res = await api.post(`/v1/orgs/${orgId}/users`, {
      username,
      email: `${username}@acme.test`,
      ...extra,
    });
    expect(res.status).toBe(201);
    return res.body as { id: string; position: string; revision: string };
  }

  describe('orgs', () => {
    it('given nothing, when creating an org, then 201 with id and position, and a read at that position sees it', async () => {
      const name = `Acme ${unique()}`;
      const res = await api.post('/v1/orgs', {
        name,
        address: '1 Rue de la Paix',
        contactInfo: { email: 'billing@acme.test', phone: '+33 1 23 45 67 89' },
        baseCurrency: 'EUR',
        timeZone: 'Europe/Paris',
      });
      expect(res.status).toBe(201);
      expect(res.body).toEqual({
        id: expect.any(String),
        position: expect.stringMatching(/^\d+$/),
        revision: '0',
        events: ['OrgCreated'],
      });
      const got = await api.get(`/v1/orgs/${res.body.id}?minPosition=${res.body.position}`);
      expect(got.status).toBe(200);
      expect(got.body).toMatchObject({
        id: res.body.id,
        name,
        address: '1 Rue de la Paix',
        contactInfo: { email: 'billing@acme.test', phone: '+33 1 23 45 67 89' },
        baseCurrency: 'EUR',
        timeZone: 'Europe/Paris',
        revision: '0',
      });
      expect(Date.parse(got.body.createdAt)).not.toBeNaN();
    });

    it('given an org, when creating another with the same name in another case, then 409 and nothing is appended', async () => {
      const name = `Globex ${unique()}`;
      await createOrg(name);
      const before = await head();
      const res = await api.post('/v1/orgs', { name: `  ${name.toUpperCase()} ` });
      expect(res.status).toBe(409);
      expect(res.body).toMatchObject({
        statusCode: 409,
        error: 'Conflict',
        message: expect.stringContaining('already taken'),
      });
      expect(await head()).toBe(before);
    });

    it.each([
      [{ name: '' }, 'name'],
      [{ name: '   ' }, 'name'],
      [{ name: 'x'.repeat(201) }, 'name'],
      [{ name: 'Ok', baseCurrency: 'EURO' }, 'baseCurrency'],
      [{ name: 'Ok', timeZone: 'Mars/Olympus' }, 'timeZone'],
      [{ name: 'Ok', contactInfo: { email: 'not-an-email' } }, 'contactInfo.email'],
      [{ name: 'Ok', admin: true }, 'admin'],
      [{}, 'name'],
    ])(
      'given bad input %j, when creating an org, then 400 naming %s and nothing is appended',
      async (body, field) => {
        const before = await head();
        const res = await api.post('/v1/orgs', body);
        expect(res.status).toBe(400);
        expect(res.body).toMatchObject({ statusCode: 400, error: 'Bad Request' });
        expect(res.body.details.map((d: { field: string }) => d.field)).toContain(field);
        expect(await head()).toBe(before);
      },
    );

    it('given malformed JSON, when posting, then 400 in the one error shape', async () => {
      const res = await api.raw('POST', '/v1/orgs', '{"name": ', { 'content-type': 'application/json' });
      expect(res.status).toBe(400);
      expect(res.body).toMatchObject({
        statusCode: 400,
        error: 'Bad Request',
        message: expect.any(String),
        details: [],
      });
    });

    it('given an org at revision 0, when updating with If-Match 0 then again with the stale 0, then 200 then 409, unchanged', async () => {
      const org = await createOrg();
      const ok = await api.patch(`/v1/orgs/${org.id}`, { timeZone: 'UTC' }, { 'if-match': '0' });
      expect(ok.status).toBe(200);
      expect(ok.body.revision).toBe('1');
      const stale = await api.patch(`/v1/orgs/${org.id}`, { timeZone: 'Asia/Tokyo' }, { 'if-match': '0' });
      expect(stale.status).toBe(409);
      expect(stale.body.details).toEqual([
        expect.objectContaining({ field: 'revision', expected: '0', actual: '1' }),
      ]);
      const got = await api.get(`/v1/orgs/${org.id}?minPosition=${ok.body.position}`);
      expect(got.body.timeZone).toBe('UTC');
    });

    it('given an org renamed, when reading it as of before the rename, then the old name comes back', async () => {
      const name = `Initech ${unique()}`;
      const org = await createOrg(name);
      await new Promise((r) => setTimeout(r, 5)); // two distinct instants, 1 ms resolution
      const between = new Date().toISOString();
      await new Promise((r) => setTimeout(r, 5));
      const renamed = await api.patch(`/v1/orgs/${org.id}`, { name: `${name} Renamed` });
      expect(renamed.status).toBe(200);
      const then = await api.get(`/v1/orgs/${org.id}?asOf=${encodeURIComponent(between)}`);
      expect(then.status).toBe(200);
      expect(then.body.name).toBe(name);
      const now = await api.get(`/v1/orgs/${org.id}?minPosition=${renamed.body.position}`);
      expect(now.body.name).toBe(`${name} Renamed`);
      const before = await api.get(`/v1/orgs/${org.id}?asOf=2000-01-01T00:00:00Z`);
      expect(before.status).toBe(404);
      // The old name is free again; the new one is taken.
      expect((await api.post('/v1/orgs', { name })).status).toBe(201);
      expect((await api.post('/v1/orgs', { name: `${name} renamed` })).status).toBe(409);
    });

    it('given unknown and malformed ids, then 404 and 400', async () => {
      expect((await api.get('/v1/orgs/does-not-exist')).status).toBe(404);
      const bad = await api.get('/v1/orgs/bad%20id!');
      expect(bad.status).toBe(400);
      expect(bad.body.details[0].field).toBe('orgId');
      expect((await api.get('/v1/orgs/x?minPosition=abc')).status).toBe(400);
      expect((await api.get('/v1/orgs/x?asOf=yesterday')).status).toBe(400);
      expect((await api.get('/v1/orgs/x?surprise=1')).status).toBe(400);
    });

    it('given a position far ahead, when reading with minPosition, then 503 with a clear message', async () => {
      const org = await createOrg();
      const res = await api.get(`/v1/orgs/${org.id}?minPosition=99999999999`);
      expect(res.status).toBe(503);
      expect(res.body.message).toMatch(/have not caught up with position 99999999999/);
    });

    it('given an org with a team, when deleting it, then 409; once empty, it is deleted and gone from reads', async () => {
      const org = await createOrg();
      const team = await createTeam(org.id, 'Only');
      const refused = await api.delete(`/v1/orgs/${org.id}`);
      expect(refused.status).toBe(409);
      expect(refused.body.message).toMatch(/1 team\(s\)/);
      expect((await api.delete(`/v1/orgs/${org.id}/teams/${team.id}`)).status).toBe(200);
      const deleted = await api.delete(`/v1/orgs/${org.id}`);
      expect(deleted.status).toBe(200);
      expect((await api.get(`/v1/orgs/${org.id}?minPosition=${deleted.body.position}`)).status).toBe(404);
      const list = await api.get(`/v1/orgs?limit=500&minPosition=${deleted.body.position}`);
      expect(list.body.items.map((o: { id: string }) => o.id)).not.toContain(org.id);
    });
  });

  describe('teams', () => {
    it('given an org, when building a three-level tree, moving a team and trying a cycle, then the tree, ancestors and descendants follow', async () => {
      const org = await createOrg();
      const eng = await createTeam(org.id, 'Engineering');
      const platform = await createTeam(org.id, 'Platform', eng.id);
      const storage = await createTeam(org.id, 'Storage', platform.id);
      const sales = await createTeam(org.id, 'Sales');

      const tree = await api.get(`/v1/orgs/${org.id}/teams?view=tree&minPosition=${sales.position}`);
      expect(tree.status).toBe(200);
      expect(tree.body.items.map((t: { name: string }) => t.name)).toEqual(['Engineering', 'Sales']);
      expect(tree.body.items[0].children[0]).toMatchObject({
        name: 'Platform',
        children: [{ name: 'Storage', children: [] }],
      });

      const anc = await api.get(`/v1/orgs/${org.id}/teams/${storage.id}/ancestors`);
      expect(anc.body.items.map((t: { name: string }) => t.name)).toEqual(['Platform', 'Engineering']);
      const desc = await api.get(`/v1/orgs/${org.id}/teams/${eng.id}/descendants`);
      expect(desc.body.items.map((t: { name: string }) => t.name)).toEqual(['Platform', 'Storage']);

      const cycle = await api.post(`/v1/orgs/${org.id}/teams/${eng.id}/move`, { parentTeamId: storage.id });
      expect(cycle.status).toBe(409);
      expect(cycle.body.message).toMatch(/would make a cycle/);
      expect(cycle.body.details[0]).toMatchObject({ field: 'parentTeamId', problem: 'cycle' });

      const moved = await api.post(`/v1/orgs/${org.id}/teams/${storage.id}/move`, { parentTeamId: sales.id });
      expect(moved.status).toBe(200);
      const after = await api.get(
        `/v1/orgs/${org.id}/teams/${storage.id}/ancestors?minPosition=${moved.body.position}`,
      );
      expect(after.body.items.map((t: { name: string }) => t.name)).toEqual(['Sales']);
      const flat = await api.get(`/v1/orgs/${org.id}/teams`);
      expect(flat.body.items).toHaveLength(4);

      const toTop = await api.post(`/v1/orgs/${org.id}/teams/${platform.id}/move`, { parentTeamId: null });
      expect(toTop.status).toBe(200);
      const team = await api.get(
        `/v1/orgs/${org.id}/teams/${platform.id}?minPosition=${toTop.body.position}`,
      );
      expect(team.body.parentTeamId).toBeNull();
    });

    it('given teams in two orgs, when nesting across orgs, then 422; an unknown parent is 404', async () => {
      const a = await createOrg();
      const b = await createOrg();
      const ta = await createTeam(a.id, 'A');
      const tb = await createTeam(b.id, 'B');
      await api.get(`/v1/orgs/${b.id}/teams/${tb.id}?minPosition=${tb.position}`);
      const cross = await api.post(`/v1/orgs/${a.id}/teams/${ta.id}/move`, { parentTeamId: tb.id });
      expect(cross.status).toBe(422);
      expect(cross.body.message).toMatch(/across orgs/);
      const crossCreate = await api.post(`/v1/orgs/${a.id}/teams`, { name: 'Child', parentTeamId: tb.id });
      expect(crossCreate.status).toBe(422);
      expect((await api.post(`/v1/orgs/${a.id}/teams`, { name: 'Child', parentTeamId: 'nope' })).status).toBe(
        404,
      );
      expect((await api.get(`/v1/orgs/${a.id}/teams/${tb.id}`)).status).toBe(404);
      expect((await api.post(`/v1/orgs/${a.id}/teams/${ta.id}/move`, {})).status).toBe(400);
    });

    it('given a team with members, when deleting it, then 409 saying so; stale If-Match on rename is 409', async () => {
      const org = await createOrg();
      const team = await createTeam(org.id, 'Busy');
      await createUser(org.id, `u${unique()}`, { primaryTeamId: team.id });
      const refused = await api.delete(`/v1/orgs/${org.id}/teams/${team.id}`);
      expect(refused.status).toBe(409);
      expect(refused.body.message).toMatch(/1 member/);
      const renamed = await api.patch(
        `/v1/orgs/${org.id}/teams/${team.id}`,
        { name: 'Busier' },
        { 'if-match': '0' },
      );
      expect(renamed.status).toBe(200);
      expect(renamed.body.revision).toBe('1');
      const stale = await api.patch(
        `/v1/orgs/${org.id}/teams/${team.id}`,
        { name: 'Busiest' },
        { 'if-match': '0' },
      );
      expect(stale.status).toBe(409);
    });
  });

  describe('users', () => {
    it('given teams, when adding users and listing with filters and paging, then each page is exact', async () => {
      const org = await createOrg();
      const root = await createTeam(org.id, 'Root');
      const child = await createTeam(org.id, 'Child', root.id);
      const other = await createTeam(org.id, 'Other');
      const created: string[] = [];
      for (let i = 0; i < 7; i++) {
        const u = await createUser(org.id, `member${i}-${unique()}`, {
          primaryTeamId: i < 3 ? root.id : i < 5 ? child.id : other.id,
          displayName: `Person ${i}`,
        });
        created.push(u.id);
      }
      const last = await createUser(org.id, `zed-${unique()}`, {
        displayName: 'Zed Shaw',
        teamIds: [child.id],
      });
      await api.post(`/v1/orgs/${org.id}/users/${created[0]}/deactivate`, { reason: 'left' });
      const pos = (await api.post(`/v1/orgs/${org.id}/users/${created[1]}/deactivate`, {})).body.position;

      const withSubs = await api.get(
        `/v1/orgs/${org.id}/users?teamId=${root.id}&minPosition=${pos}&limit=50`,
      );
      expect(withSubs.body.items).toHaveLength(6);
      const direct = await api.get(`/v1/orgs/${org.id}/users?teamId=${root.id}&includeSubTeams=false`);
      expect(direct.body.items).toHaveLength(3);
      const inactive = await api.get(`/v1/orgs/${org.id}/users?status=inactive`);
      expect(inactive.body.items.map((u: { id: string }) => u.id).sort()).toEqual(
        [created[0], created[1]].sort(),
      );
      const search = await api.get(`/v1/orgs/${org.id}/users?q=shaw`);
      expect(search.body.items.map((u: { id: string }) => u.id)).toEqual([last.id]);

      const seen: string[] = [];
      let cursor: string | null = null;
      let pages = 0;
      do {
        const page: { body: { items: Array<{ id: string }>; nextCursor: string | null } } = await api.get(
          `/v1/orgs/${org.id}/users?limit=3${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`,
        );
        seen.push(...page.body.items.map((u) => u.id));
        cursor = page.body.nextCursor;
        pages++;
      } while (cursor && pages < 10);
      expect(seen).toHaveLength(8);
      expect(new Set(seen).size).toBe(8);
      expect(pages).toBe(3);
    });

    it('given a user, when another user takes the same username or email in another case, then 409 and nothing is appended', async () => {
      const org = await createOrg();
      const name = `ada${unique()}`;
      await createUser(org.id, name);
      const before = await head();
      const sameName = await api.post(`/v1/orgs/${org.id}/users`, {
        username: name.toUpperCase(),
        email: `other${unique()}@acme.test`,
      });
      expect(sameName.status).toBe(409);
      expect(sameName.body.message).toMatch(/username .* already taken/);
      const sameEmail = await api.post(`/v1/orgs/${org.id}/users`, {
        username: `other${unique()}`,
        email: `${name.toUpperCase()}@ACME.TEST`,
      });
      expect(sameEmail.status).toBe(409);
      expect(sameEmail.body.message).toMatch(/email .* already taken/);
      expect(await head()).toBe(before);
    });

    it.each([
      [{ username: 'ok-user', email: 'not-an-email' }, 'email'],
      [{ username: 'a', email: 'a@b.test' }, 'username'],
      [{ username: 'ok-user', email: 'ok@b.test', teamIds: 'x' }, 'teamIds'],
      [{ username: 'ok-user', email: 'ok@b.test', role: 'admin' }, 'role'],
    ])('given bad input %j, when creating a user, then 400 naming %s', async (body, field) => {
      const org = await createOrg();
      const res = await api.post(`/v1/orgs/${org.id}/users`, body);
      expect(res.status).toBe(400);
      expect(res.body.details.map((d: { field: string }) => d.field)).toContain(field);
    });

    it('given a user, when deactivating, reactivating, joining and leaving teams, and deleting, then reads follow and the history keeps them', async () => {
      const org = await createOrg();
      const t1 = await createTeam(org.id, 'One');
      const t2 = await createTeam(org.id, 'Two');
      const u = await createUser(org.id, `grace${unique()}`, { primaryTeamId: t1.id });
      const createdAt = new Date().toISOString();
      await new Promise((r) => setTimeout(r, 5));
      expect((await api.put(`/v1/orgs/${org.id}/users/${u.id}/teams/${t2.id}`)).status).toBe(200);
      const deact = await api.post(`/v1/orgs/${org.id}/users/${u.id}/deactivate`, {});
      expect(deact.body.events).toEqual(['UserDeactivated']);
      const again = await api.post(`/v1/orgs/${org.id}/users/${u.id}/deactivate`, {});
      expect(again.status).toBe(200);
      expect(again.body.events).toEqual([]);
      const got = await api.get(`/v1/orgs/${org.id}/users/${u.id}?minPosition=${deact.body.position}`);
      expect(got.body).toMatchObject({
        status: 'inactive',
        primaryTeamId: t1.id,
        teamIds: [t1.id, t2.id],
        mfaEnabled: false,
        lastLogin: null,
      });
      expect((await api.delete(`/v1/orgs/${org.id}/users/${u.id}/teams/${t1.id}`)).status).toBe(409);
      expect((await api.delete(`/v1/orgs/${org.id}/users/${u.id}/teams/${t2.id}`)).status).toBe(200);
      expect((await api.post(`/v1/orgs/${org.id}/users/${u.id}/reactivate`)).status).toBe(200);
      const stale = await api.patch(
        `/v1/orgs/${org.id}/users/${u.id}`,
        { displayName: 'G' },
        { 'if-match': '0' },
      );
      expect(stale.status).toBe(409);
      const del = await api.delete(`/v1/orgs/${org.id}/users/${u.id}`);
      expect(del.status).toBe(200);
      expect(
        (await api.get(`/v1/orgs/${org.id}/users/${u.id}?minPosition=${del.body.position}`)).status,
      ).toBe(404);
      const past = await api.get(`/v1/orgs/${org.id}/users/${u.id}?asOf=${encodeURIComponent(createdAt)}`);
      expect(past.status).toBe(200);
      expect(past.body).toMatchObject({ status: 'active', teamIds: [t1.id] });
      // The username is free again once the user is deleted.
      expect(
        (
          await api.post(`/v1/orgs/${org.id}/users`, {
            username: got.body.username,
            email: `new${unique()}@acme.test`,
          })
        ).status,
      ).toBe(201);
    });

    it('given a user of another org, when reading or changing it through this org, then 404', async () => {
      const a = await createOrg();
      const b = await createOrg();
      const u = await createUser(b.id, `bob${unique()}`);
      expect((await api.get(`/v1/orgs/${a.id}/users/${u.id}?minPosition=${u.position}`)).status).toBe(404);
      expect((await api.post(`/v1/orgs/${a.id}/users/${u.id}/deactivate`, {})).status).toBe(404);
      expect((await api.delete(`/v1/orgs/${a.id}/users/${u.id}`)).status).toBe(404);
    });
  });

  describe('restart', () => {
    it('given orgs, teams and users, when the server restarts on the same data, then everything is still there and projections resume', async () => {
      const org = await createOrg();
      const team = await createTeam(org.id, 'Durable');
      const user = await createUser(org.id, `kept${unique()}`, { primaryTeamId: team.id });
      await api.get(`/v1/orgs/${org.id}/users/${user.id}?minPosition=${user.position}`);
      const dataDir = server.dataDir;
      await server.stop();
      server = await start(dataDir);
      api = server.api;
      const health = await api.get('/health');
      expect(health.status).toBe(200);
      expect(health.body.projections.find((p: { name: string }) => p.name === 'directory')).toMatchObject({
        state: 'running',
      });
      expect((await api.get(`/v1/orgs/${org.id}`)).body.name).toBeDefined();
      expect((await api.get(`/v1/orgs/${org.id}/teams/${team.id}`)).body.name).toBe('Durable');
      expect((await api.get(`/v1/orgs/${org.id}/users/${user.id}`)).body.primaryTeamId).toBe(team.id);
      const more = await createUser(org.id, `after${unique()}`, { primaryTeamId: team.id });
      const members = await api.get(
        `/v1/orgs/${org.id}/users?teamId=${team.id}&minPosition=${more.position}`,
      );
      expect(members.body.items).toHaveLength(2);
    });
  });
}
