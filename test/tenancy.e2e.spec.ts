import { randomUUID } from 'node:crypto';
import fc from 'fast-check';
import { EVENT_STORE, EventStore } from '@purser/core';
import {
  Api,
  OpenApiDoc,
  Operation,
  SignedIn,
  TestServer,
  arbitraryOf,
  setUpInstance,
  signedInOrg,
  startTestServer,
} from '@purser/testkit';

/**
 * Tenancy, proved over the whole API: a signed-in member of org A calls every org-scoped operation of the OpenAPI
 * document with org B's ids. Each answers 404 exactly as for an org that does not exist (never 2xx, never a 403 that
 * would tell B exists), and B's events and views are what they were. The instance administrator (A's setup owner)
 * acts in every org by design.
 */

type Call = { method: string; template: string; op: Operation };

const METHODS = ['get', 'post', 'put', 'patch', 'delete'];

/** Plausible bodies, so that a missing tenancy check would show as a success, not as a 400. */
function bodyFor(call: Call, doc: OpenApiDoc, b: World): unknown {
  const known: Record<string, unknown> = {
    'patch /v1/orgs/{orgId}': { name: 'Taken over' },
    'post /v1/orgs/{orgId}/teams': { name: 'Intruders' },
    'patch /v1/orgs/{orgId}/teams/{teamId}': { name: 'Renamed by A' },
    'post /v1/orgs/{orgId}/teams/{teamId}/move': { parentTeamId: null },
    'post /v1/orgs/{orgId}/users': { username: 'mole', email: 'mole@a.test' },
    'patch /v1/orgs/{orgId}/users/{userId}': { displayName: 'Mole' },
    'post /v1/orgs/{orgId}/users/{userId}/deactivate': {},
    'post /v1/orgs/{orgId}/exchange-rates': {
      currency: 'USD',
      rate: '2',
      effectiveFrom: '2026-01-01T00:00:00Z',
    },
    'post /v1/orgs/{orgId}/quotas': quotaOn(b.orgId),
    'patch /v1/orgs/{orgId}/quotas/{quotaId}': { limit: '1000' },
    'post /v1/orgs/{orgId}/quota-checks': checkFor(b.userId),
    'put /v1/orgs/{orgId}/users/{userId}/password': { password: 'purple elephant ladder 4417 gravel' },
  };
  const k = `${call.method} ${call.template}`;
  if (k in known) return known[k];
  const schema = call.op.requestBody?.content?.['application/json']?.schema as Record<string, unknown>;
  return schema ? fc.sample(arbitraryOf(doc, schema), { numRuns: 1, seed: 7 })[0] : undefined;
}

const quotaOn = (orgId: string) => ({
  entityType: 'Org',
  entityId: orgId,
  metric: 'cost',
  period: 'none',
  limit: '100',
  currency: 'EUR',
});
const checkFor = (userId: string) => ({
  userId,
  itemType: 'Agent',
  itemId: 'research-agent',
  estimate: { amount: '1', currency: 'EUR' },
});
const usageOf = (orgId: string, userId: string) => ({
  eventId: randomUUID(),
  orgId,
  userId,
  itemType: 'Agent',
  itemId: 'research-agent',
  amount: '0.25',
  currency: 'EUR',
  occurredAt: '2026-11-25T14:02:00Z',
});

interface World {
  orgId: string;
  userId: string;
  teamId: string;
  quotaId: string;
  reservationId: string;
  sessionId: string;
  keyId: string;
  roleId: string;
  permission: string;
}

/** A URL for the operation: path parameters from `ids`, required query parameters from their examples. */
function urlOf(call: Call, ids: Record<string, string>, extra: Record<string, string> = {}): string {
  const path = call.template.replace(/\{(\w+)\}/g, (_, name: string) => {
    if (!(name in ids)) throw new Error(`${call.template}: no id for {${name}}: add it to the world`);
    return encodeURIComponent(ids[name]);
  });
  const query = new URLSearchParams(extra);
  for (const p of call.op.parameters ?? []) {
    if (p.in !== 'query' || !p.required) continue;
    const s = p.schema as { example?: unknown; enum?: unknown[] } | undefined;
    // An id-valued query parameter names the world's thing (entityId: the org, with entityType's first value, org).
    const value = (p.name === 'entityId' ? ids.orgId : undefined) ?? s?.example ?? s?.enum?.[0];
    if (value === undefined) throw new Error(`${call.template}: no example for required ?${p.name}`);
    query.set(p.name, String(value));
  }
  return query.size ? `${path}?${query}` : path;
}

const takesMinPosition = (call: Call) =>
  (call.op.parameters ?? []).some((p) => p.in === 'query' && p.name === 'minPosition');

describe('tenancy: a member of org A reaches nothing of org B (embedded engines)', () => {
  let server: TestServer;
  let doc: OpenApiDoc;
  let root: SignedIn; // A's setup owner: the instance administrator
  let memberA: SignedIn;
  let ownerB: SignedIn;
  let b: World;
  let orgScoped: Call[];

  /** B's events: every event whose metadata names B. */
  async function eventsOfB(): Promise<number> {
    const store = server.app.get<EventStore>(EVENT_STORE);
    let after = -1n;
    let count = 0;
    for (;;) {
      const batch = await store.readAll({ after, maxCount: 1000 });
      count += batch.events.filter((e) => e.metadata.orgId === b.orgId).length;
      if (!batch.events.length || batch.checkpoint <= after) return count;
      after = batch.checkpoint;
    }
  }

  /** Every view of B, as the instance administrator reads it (bodies of each GET). */
  async function viewsOfB(): Promise<Record<string, unknown>> {
    const views: Record<string, unknown> = {};
    for (const call of orgScoped.filter((c) => c.method === 'get')) {
      const res = await root.api.get(urlOf(call, { ...b }));
      views[call.template] = { status: res.status, body: res.body };
    }
    return views;
  }

  const ok = async (what: string, p: Promise<{ status: number; body: any }>, status = 201) => {
    const res = await p;
    if (res.status !== status) throw new Error(`${what}: ${res.status} ${JSON.stringify(res.body)}`);
    return res.body;
  };

  beforeAll(async () => {
    server = await startTestServer();
    root = await setUpInstance(server, { orgName: 'Org A' });
    memberA = await signedInOrg(server, root.api, { orgId: root.orgId, username: 'alice' });
    ownerB = await signedInOrg(server, root.api, { orgName: 'Org B', username: 'bert' });
    doc = (await server.anonymous.get('/openapi.json')).body;
    orgScoped = [];
    for (const [template, item] of Object.entries(doc.paths))
      for (const method of METHODS)
        if (item[method] && template.includes('{orgId}'))
          orgScoped.push({ method, template, op: item[method] });

    // B's world, made by B's own owner: a team, a user, a quota, exchange rates, usage, a reservation.
    const api = ownerB.api;
    const teamId = (await ok('team', api.post(`/v1/orgs/${ownerB.orgId}/teams`, { name: 'Research' }))).id;
    const userId = (
      await ok(
        'user',
        api.post(`/v1/orgs/${ownerB.orgId}/users`, {
          username: 'carla',
          email: 'carla@b.test',
          teamIds: [teamId],
          primaryTeamId: teamId,
        }),
      )
    ).id;
    const quotaId = (await ok('quota', api.post(`/v1/orgs/${ownerB.orgId}/quotas`, quotaOn(ownerB.orgId))))
      .id;
    for (const currency of ['USD', 'GBP'])
      await ok(
        'rate',
        api.post(`/v1/orgs/${ownerB.orgId}/exchange-rates`, {
          currency,
          rate: '0.9',
          effectiveFrom: '2026-01-01T00:00:00Z',
        }),
      );
    await ok('usage', api.post('/v1/usage', usageOf(ownerB.orgId, userId)));
    const check = await ok('check', api.post(`/v1/orgs/${ownerB.orgId}/quota-checks`, checkFor(userId)), 200);
    const me = await ok('me', api.get('/v1/me'), 200);
    const key = await ok('key', api.post(`/v1/orgs/${ownerB.orgId}/api-keys`, { name: 'B agent' }));
    const role = await ok(
      'role',
      api.post(`/v1/orgs/${ownerB.orgId}/roles`, { name: 'readers', permissions: ['usage.read'] }),
    );
    b = {
      orgId: ownerB.orgId,
      userId,
      teamId,
      quotaId,
      reservationId: check.reservationId,
      sessionId: me.sessionId,
      keyId: key.keyId,
      roleId: role.roleId,
      permission: 'usage.read',
    };
    expect(b.reservationId).toEqual(expect.any(String));
  });
  afterAll(async () => {
    await server?.stop();
    server?.cleanup();
  });

  it('given the document, then the org-scoped operations are the bulk of the API (each read and each write)', () => {
    expect(orgScoped.length).toBeGreaterThan(40);
    expect(new Set(orgScoped.map((c) => c.method))).toEqual(new Set(METHODS));
  });

  it("given A's member, when calling every org-scoped operation with B's ids, then 404 as for an unknown org, and B is unchanged", async () => {
    const before = await eventsOfB();
    const views = await viewsOfB();
    const position = String(await server.app.get<EventStore>(EVENT_STORE).headPosition());
    const unknown = { ...b, orgId: 'no-such-org' };
    const answers: string[] = [];
    const calls: Array<[Call, Record<string, string>]> = [];
    for (const call of orgScoped) {
      calls.push([call, {}]);
      if (takesMinPosition(call)) calls.push([call, { minPosition: position }]);
    }
    for (const [call, extra] of calls) {
      const body = bodyFor(call, doc, b);
      const send = (api: Api, ids: Record<string, string>) =>
        api.raw(call.method.toUpperCase(), urlOf(call, ids, extra), body);
      const res = await send(memberA.api, { ...b });
      const ghost = await send(memberA.api, unknown);
      const name = `${call.method.toUpperCase()} ${urlOf(call, { ...b }, extra)}`;
      const same =
        JSON.stringify(res.body).replaceAll(b.orgId, '<org>') ===
        JSON.stringify(ghost.body).replaceAll('no-such-org', '<org>');
      answers.push(`${name} -> ${res.status}${same ? '' : ' (unlike an unknown org)'}`);
    }
    expect(answers.filter((a) => !/-> 404$/.test(a))).toEqual([]);
    expect(answers.length).toBeGreaterThan(orgScoped.length);
    expect(await eventsOfB()).toBe(before);
    expect(await viewsOfB()).toEqual(views);
  });

  it("given A's member, when recording usage for B, then 404 for one event; a batch rejects it; nothing is recorded", async () => {
    const before = await eventsOfB();
    const single = await memberA.api.post('/v1/usage', usageOf(b.orgId, b.userId));
    expect(single.status).toBe(404);
    expect(single.body).toMatchObject({ statusCode: 404, details: [{ field: 'orgId' }] });
    const batch = await memberA.api.post('/v1/usage', {
      events: [usageOf(b.orgId, b.userId), usageOf(b.orgId, b.userId)],
    });
    expect(batch.status).toBe(200);
    expect(batch.body).toMatchObject({ recorded: 0, rejected: 2 });
    expect(batch.body.results.map((r: { status: string }) => r.status)).toEqual(['rejected', 'rejected']);
    expect(await eventsOfB()).toBe(before);
  });

  it('given two orgs, when each lists orgs, then each member sees its own only; the administrator sees both', async () => {
    const ids = async (api: Api) => (await api.get('/v1/orgs')).body.items.map((o: { id: string }) => o.id);
    expect(await ids(memberA.api)).toEqual([root.orgId]);
    expect(await ids(ownerB.api)).toEqual([b.orgId]);
    expect((await ids(root.api)).sort()).toEqual([root.orgId, b.orgId].sort());
  });

  it("given A's member, when creating an org, then 403: only the instance administrator may", async () => {
    const res = await memberA.api.post('/v1/orgs', { name: 'Shadow', baseCurrency: 'EUR', timeZone: 'UTC' });
    expect(res.status).toBe(403);
    expect(res.body).toMatchObject({ statusCode: 403, error: 'Forbidden' });
    expect((await root.api.get('/v1/orgs')).body.items).toHaveLength(2);
  });

  it("given A's member, when ending B's owner's session through its own sessions route, then B stays signed in", async () => {
    const before = await eventsOfB();
    const res = await memberA.api.delete(`/v1/me/sessions/${b.sessionId}`);
    expect([204, 404]).toContain(res.status);
    expect((await ownerB.api.get('/v1/me')).status).toBe(200);
    expect(await eventsOfB()).toBe(before);
  });

  it('given the instance administrator (A’s setup owner), when reading every view of B and changing it, then 200', async () => {
    const reads = orgScoped.filter((c) => c.method === 'get');
    const statuses = [];
    for (const call of reads)
      statuses.push(`${call.template} -> ${(await root.api.get(urlOf(call, { ...b }))).status}`);
    // Each read reaches B: 200, or for B's forecast the documented 422 (B has no weeks of history to forecast from).
    expect(statuses.filter((s) => !s.endsWith('-> 200') && !/\/forecast -> 422$/.test(s))).toEqual([]);
    const renamed = await root.api.patch(`/v1/orgs/${b.orgId}/teams/${b.teamId}`, {
      name: 'Research & Development',
    });
    expect(renamed.status).toBe(200);
    const team = await root.api.get(
      `/v1/orgs/${b.orgId}/teams/${b.teamId}?minPosition=${renamed.body.position}`,
    );
    expect(team.body).toMatchObject({ id: b.teamId, name: 'Research & Development' });
  });
});
