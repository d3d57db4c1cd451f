import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { EVENT_STORE, EventStore, READ_STORE, ReadStore, RecordedEvent } from '@purser/core';
import { ProjectionRegistry } from '@purser/platform';
import { Api, TestServer, apiClient, apiSpec, startTestServer } from '@purser/testkit';
import { KeyMaterial } from '../key-material';
import { ACCESS_REAPER } from '../reaper';
import { AccessStreams } from '../streams';

const PASSWORD = 'correct horse battery staple 42';
const KEY = /^prk_([0-9a-f-]{36})_([A-Za-z0-9_-]{43})$/;

describe('API keys: create, authenticate, list, rotate, revoke; the reaper of deactivated owners (embedded engines)', () => {
  let server: TestServer;
  let owner: Api;
  let orgId: string;
  let adaId: string;
  let store: EventStore;

  const withKey = (key: string) => apiClient(server.url, { authorization: `Bearer ${key}` });
  const stream = (id: string) => store.readStream(id);
  /** Waits for a condition the server reaches on its own (a reactor, an off-path write): no fixed sleep. */
  async function until<T>(what: string, probe: () => Promise<T | null | undefined | false>): Promise<T> {
    const deadline = Date.now() + 10_000;
    for (;;) {
      const v = await probe();
      if (v) return v;
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
      await new Promise((r) => setTimeout(r, 25));
    }
  }
  const eventOf = (streamId: string, type: string) =>
    until(`${type} on ${streamId}`, async () => (await stream(streamId)).find((e) => e.type === type));

  async function createKey(api: Api, body: object = {}) {
    const res = await api.post(`/v1/orgs/${orgId}/api-keys`, { name: 'agent', ...body });
    expect(res.status).toBe(201);
    return res.body as { keyId: string; key: string };
  }

  async function member(username: string) {
    const created = await owner.post(`/v1/orgs/${orgId}/users`, {
      username,
      email: `${username}@acme.test`,
    });
    expect(created.status).toBe(201);
    const userId = created.body.id as string;
    expect(
      (await owner.put(`/v1/orgs/${orgId}/users/${userId}/password`, { password: PASSWORD })).status,
    ).toBe(200);
    return userId;
  }

  async function signIn(username: string) {
    const login = await server.anonymous.post('/v1/auth/login', { orgId, username, password: PASSWORD });
    expect(login.status).toBe(200);
    return apiClient(server.url, { authorization: `Bearer ${login.body.accessToken}` });
  }

  beforeAll(async () => {
    server = await startTestServer();
    store = server.app.get<EventStore>(EVENT_STORE);
    const token = readFileSync(join(server.dataDir, 'setup-token'), 'utf8').trim();
    const setup = await server.anonymous.post('/v1/setup', {
      token,
      org: { name: 'Acme', baseCurrency: 'EUR', timeZone: 'Europe/Paris' },
      owner: { username: 'ada', email: 'ada@acme.test', password: PASSWORD },
    });
    expect(setup.status).toBe(201);
    orgId = setup.body.orgId;
    adaId = setup.body.userId;
    owner = apiClient(server.url, { authorization: `Bearer ${setup.body.accessToken}` });
  });
  afterAll(async () => {
    await server?.stop();
    server?.cleanup();
  });

  it('given a signed-in user, when creating a key without an owner, then 201 with the key once, owned by them; the event holds only the digest of its secret', async () => {
    const res = await owner.post(`/v1/orgs/${orgId}/api-keys`, {
      name: 'billing agent',
      scopes: ['usage.record', 'quota.check'],
    });
    expect(res.status).toBe(201);
    expect(res.body).toEqual({
      keyId: expect.any(String),
      key: expect.stringMatching(KEY),
      name: 'billing agent',
      owner: { type: 'user', id: adaId },
      scopes: ['usage.record', 'quota.check'],
      expiresAt: null,
      createdAt: expect.any(String),
    });
    const [, keyId, secret] = KEY.exec(res.body.key)!;
    expect(keyId).toBe(res.body.keyId);
    const [created] = await stream(AccessStreams.apiKey(keyId));
    expect(created.type).toBe('ApiKeyCreated');
    expect(JSON.stringify({ data: created.data, metadata: created.metadata })).not.toContain(secret);
    expect((created.data as { secretDigest: string }).secretDigest).toBe(
      server.app.get(KeyMaterial).digest(secret),
    );
    expect(created.metadata.actor).toMatchObject({ type: 'user', id: adaId });
    const read = await owner.get(`/v1/orgs/${orgId}/api-keys/${keyId}`);
    expect(read.status).toBe(200);
    expect(JSON.stringify(read.body)).not.toMatch(/digest|prk_/i);
  });

  it('given the break-glass token, when creating a key without an owner, then 422; naming a user of the org, then 201 and exactly ApiKeyCreated', async () => {
    const none = await server.api.post(`/v1/orgs/${orgId}/api-keys`, { name: 'x' });
    expect(none.status).toBe(422);
    expect(none.body.details).toEqual([expect.objectContaining({ field: 'owner' })]);
    await apiSpec(server)
      .given()
      .when((api) =>
        api.post(`/v1/orgs/${orgId}/api-keys`, { name: 'ops', owner: { type: 'user', id: adaId } }),
      )
      .then({ status: 201, body: expect.objectContaining({ owner: { type: 'user', id: adaId } }) }, [
        { type: 'ApiKeyCreated', data: expect.objectContaining({ orgId, name: 'ops', expiresAt: null }) },
      ]);
  });

  it('given an unknown user or team, or a user of another org, when naming it the owner, then 404 and nothing appended', async () => {
    const other = await server.api.post('/v1/orgs', { name: 'Other org' });
    const stranger = await server.api.post(`/v1/orgs/${other.body.id}/users`, {
      username: 'stranger',
      email: 'stranger@other.test',
    });
    for (const o of [
      { type: 'user', id: 'nobody' },
      { type: 'team', id: 'noteam' },
      { type: 'user', id: stranger.body.id },
    ]) {
      await apiSpec(server)
        .given()
        .when((api) => api.post(`/v1/orgs/${orgId}/api-keys`, { name: 'x', owner: o }))
        .then({ status: 404, body: expect.objectContaining({ statusCode: 404 }) }, []);
    }
    const past = await owner.post(`/v1/orgs/${orgId}/api-keys`, {
      name: 'x',
      expiresAt: '2020-01-01T00:00:00Z',
    });
    expect(past.status).toBe(422);
  });

  it('given a key, when it calls routes, then it acts in its org as actor apiKey; another org answers 404; /v1/me is 403', async () => {
    const { keyId, key } = await createKey(owner);
    const agent = withKey(key);
    expect((await agent.get(`/v1/orgs/${orgId}`)).status).toBe(200);
    const other = await server.api.post('/v1/orgs', { name: 'Elsewhere' });
    expect((await agent.get(`/v1/orgs/${other.body.id}`)).status).toBe(404);
    expect((await agent.get('/v1/me')).status).toBe(403);
    const team = await agent.post(`/v1/orgs/${orgId}/teams`, { name: 'Made by an agent' });
    expect(team.status).toBe(201);
    const [made] = (await stream(`teams-${orgId}`)).filter((e) => e.type === 'TeamCreated').slice(-1);
    expect(made.metadata.actor).toEqual({ type: 'apiKey', id: keyId, orgId });
    expect((await withKey(key.slice(0, -2) + 'xx').get(`/v1/orgs/${orgId}`)).status).toBe(401);
  });

  it('given a key used many times in a day, when its stream is read, then one ApiKeyUsed; the list shows lastUsedAt', async () => {
    const { keyId, key } = await createKey(owner);
    const agent = withKey(key);
    for (let i = 0; i < 5; i++) expect((await agent.get(`/v1/orgs/${orgId}`)).status).toBe(200);
    await eventOf(AccessStreams.apiKey(keyId), 'ApiKeyUsed');
    for (let i = 0; i < 3; i++) expect((await agent.get(`/v1/orgs/${orgId}`)).status).toBe(200);
    // The next use after the write answers from the new revision: still none more.
    const events = await stream(AccessStreams.apiKey(keyId));
    expect(events.filter((e) => e.type === 'ApiKeyUsed')).toHaveLength(1);
    expect(events.find((e) => e.type === 'ApiKeyUsed')!.data).toMatchObject({
      keyId,
      day: new Date().toISOString().slice(0, 10),
    });
    const read = await owner.get(`/v1/orgs/${orgId}/api-keys/${keyId}`);
    expect(read.body.lastUsedAt).toEqual(expect.any(String));
  });

  it('given several keys, when listing with limit 2, then pages newest first that together hold every key once', async () => {
    const mine = [await createKey(owner), await createKey(owner), await createKey(owner)].map((k) => k.keyId);
    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const page: any = await owner.get(
        `/v1/orgs/${orgId}/api-keys?limit=2${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`,
      );
      expect(page.status).toBe(200);
      expect(page.body.items.length).toBeLessThanOrEqual(2);
      seen.push(...page.body.items.map((k: { keyId: string }) => k.keyId));
      cursor = page.body.nextCursor;
    } while (cursor);
    expect(new Set(seen).size).toBe(seen.length);
    expect(seen.slice(0, 3)).toEqual([...mine].reverse());
  });

  it('given a key, when rotated with the default overlap, then both keys work; with overlap 0, then only the newest', async () => {
    const { keyId, key: first } = await createKey(owner);
    const rotated = await owner.post(`/v1/orgs/${orgId}/api-keys/${keyId}/rotate`, {});
    expect(rotated.status).toBe(200);
    expect(rotated.body).toEqual({ keyId, key: expect.stringMatching(KEY) });
    expect(rotated.body.key).not.toBe(first);
    expect((await withKey(first).get(`/v1/orgs/${orgId}`)).status).toBe(200);
    expect((await withKey(rotated.body.key).get(`/v1/orgs/${orgId}`)).status).toBe(200);
    const again = await owner.post(`/v1/orgs/${orgId}/api-keys/${keyId}/rotate`, { overlapSeconds: 0 });
    expect(again.status).toBe(200);
    expect((await withKey(rotated.body.key).get(`/v1/orgs/${orgId}`)).status).toBe(401);
    expect((await withKey(again.body.key).get(`/v1/orgs/${orgId}`)).status).toBe(200);
    expect((await owner.get(`/v1/orgs/${orgId}/api-keys/${keyId}`)).body.rotatedAt).toEqual(
      expect.any(String),
    );
    const tooLong = await owner.post(`/v1/orgs/${orgId}/api-keys/${keyId}/rotate`, {
      overlapSeconds: 604_801,
    });
    expect(tooLong.status).toBe(400);
  });

  it('given a key, when revoked, then 204, it is 401 on the next request, listed as revoked, and a second revoke appends nothing', async () => {
    const { keyId, key } = await createKey(owner);
    expect((await withKey(key).get(`/v1/orgs/${orgId}`)).status).toBe(200);
    await apiSpec(server)
      .given()
      .when((api) => api.delete(`/v1/orgs/${orgId}/api-keys/${keyId}`))
      .then({ status: 204, body: undefined }, [
        { type: 'ApiKeyRevoked', data: { keyId, orgId, reason: 'revoked' } },
      ]);
    expect((await withKey(key).get(`/v1/orgs/${orgId}`)).status).toBe(401);
    const read = await owner.get(`/v1/orgs/${orgId}/api-keys/${keyId}`);
    expect(read.body).toMatchObject({ revoked: true, revokedAt: expect.any(String) });
    await apiSpec(server)
      .given()
      .when((api) => api.delete(`/v1/orgs/${orgId}/api-keys/${keyId}`))
      .then({ status: 204, body: undefined }, []);
    expect((await owner.post(`/v1/orgs/${orgId}/api-keys/${keyId}/rotate`, {})).status).toBe(409);
    expect((await owner.delete(`/v1/orgs/${orgId}/api-keys/nokey`)).status).toBe(404);
    expect((await owner.get(`/v1/orgs/${orgId}/api-keys/nokey`)).status).toBe(404);
  });

  it('given a key that expired, when used, then 401', async () => {
    const keyId = '0190f1c2-7e4b-7c1a-9d2e-000000000001';
    const secret = 'A'.repeat(43);
    await apiSpec(server)
      .given({
        streamId: AccessStreams.apiKey(keyId),
        events: [
          {
            type: 'ApiKeyCreated',
            data: {
              keyId,
              orgId,
              owner: { type: 'user', id: adaId },
              name: 'old',
              scopes: [],
              expiresAt: '2021-01-01T00:00:00.000Z',
              secretDigest: server.app.get(KeyMaterial).digest(secret),
            },
          },
        ],
      })
      .when(() => withKey(`prk_${keyId}_${secret}`).get(`/v1/orgs/${orgId}`))
      .then({ status: 401, body: expect.objectContaining({ statusCode: 401 }) }, []);
  });

  it('given a user with a session and a key, when deactivated, then both are 401 and the reaper ends them; reactivated, they stay 401 while a new sign-in works', async () => {
    const bobId = await member('bob');
    const bob = await signIn('bob');
    const { keyId, key } = await createKey(owner, { owner: { type: 'user', id: bobId } });
    expect((await bob.get('/v1/me')).status).toBe(200);
    expect((await withKey(key).get(`/v1/orgs/${orgId}`)).status).toBe(200);

    expect((await owner.post(`/v1/orgs/${orgId}/users/${bobId}/deactivate`, {})).status).toBe(200);
    expect((await bob.get('/v1/me')).status).toBe(401);
    expect((await withKey(key).get(`/v1/orgs/${orgId}`)).status).toBe(401);
    const revoked = await eventOf(AccessStreams.apiKey(keyId), 'ApiKeyRevoked');
    expect(revoked.data).toMatchObject({ reason: 'owner-deactivated' });
    const sessions = (await owner.get(`/v1/orgs/${orgId}/users/${bobId}/sessions`)).body.items;
    expect(sessions).toEqual([]);

    expect((await owner.post(`/v1/orgs/${orgId}/users/${bobId}/reactivate`, {})).status).toBe(200);
    expect((await bob.get('/v1/me')).status).toBe(401);
    expect((await withKey(key).get(`/v1/orgs/${orgId}`)).status).toBe(401);
    const fresh = await signIn('bob');
    expect((await fresh.get('/v1/me')).status).toBe(200);

    // Replayed, the deactivation touches nothing: the new session started after it, the old ones are ended.
    const deactivated = (await stream(`user-${bobId}`)).find((e) => e.type === 'UserDeactivated')!;
    const reaper = server.app
      .get(ProjectionRegistry)
      .all()
      .find((p) => p.name === ACCESS_REAPER)!;
    const head = await store.headPosition();
    await reaper.handle([deactivated as RecordedEvent], server.app.get<ReadStore>(READ_STORE));
    expect((await store.readAll({ after: head })).events).toEqual([]);
    expect((await fresh.get('/v1/me')).status).toBe(200);
  });

  it('given a user deleted and a team deleted, when their keys are used, then 401 and revoked as owner-deleted', async () => {
    const carolId = await member('carol');
    const carolKey = await createKey(owner, { owner: { type: 'user', id: carolId } });
    const team = await owner.post(`/v1/orgs/${orgId}/teams`, { name: 'Temporary' });
    const teamKey = await createKey(owner, { owner: { type: 'team', id: team.body.id } });
    expect((await withKey(teamKey.key).get(`/v1/orgs/${orgId}`)).status).toBe(200);

    expect((await owner.delete(`/v1/orgs/${orgId}/users/${carolId}`)).status).toBe(200);
    expect((await owner.delete(`/v1/orgs/${orgId}/teams/${team.body.id}`)).status).toBe(200);
    expect((await withKey(carolKey.key).get(`/v1/orgs/${orgId}`)).status).toBe(401);
    expect((await withKey(teamKey.key).get(`/v1/orgs/${orgId}`)).status).toBe(401);
    for (const k of [carolKey, teamKey]) {
      const revoked = await eventOf(AccessStreams.apiKey(k.keyId), 'ApiKeyRevoked');
      expect(revoked.data).toMatchObject({ reason: 'owner-deleted' });
    }
  });
});
