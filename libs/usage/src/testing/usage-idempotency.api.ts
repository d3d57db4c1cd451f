import { randomUUID } from 'node:crypto';
import { EVENT_STORE, EventStore } from '@purser/core';
import { Api, TestServer } from '@purser/testkit';

/**
 * Usage idempotency over HTTP: given orgs and what they recorded, when an eventId comes again (in another org, with
 * the same or another payload, or recorded under a former layout), then what the client is told and what is counted.
 */
export function usageIdempotencyApiSpec(start: () => Promise<TestServer>) {
  let server: TestServer;
  let api: Api;
  const orgs: Array<{ orgId: string; teamId: string; userId: string }> = [];

  beforeAll(async () => {
    server = await start();
    api = server.api;
    for (const name of ['A', 'B']) {
      const orgId = (
        await api.post('/v1/orgs', {
          name: `Idem ${name} ${randomUUID()}`,
          baseCurrency: 'EUR',
          timeZone: 'UTC',
        })
      ).body.id as string;
      const teamId = (await api.post(`/v1/orgs/${orgId}/teams`, { name: 'Research' })).body.id as string;
      const userId = (
        await api.post(`/v1/orgs/${orgId}/users`, {
          username: `idem-${randomUUID().slice(0, 8)}`,
          email: `${randomUUID()}@acme.test`,
          primaryTeamId: teamId,
        })
      ).body.id as string;
      orgs.push({ orgId, teamId, userId });
    }
  });
  afterAll(async () => {
    await server?.stop();
    server?.cleanup();
  });

  const usage = (org: (typeof orgs)[number], over: Record<string, unknown> = {}) => ({
    eventId: `dup-${randomUUID()}`,
    orgId: org.orgId,
    userId: org.userId,
    itemType: 'Tool',
    itemId: 'search',
    amount: '1.25',
    currency: 'EUR',
    occurredAt: '2026-03-10T10:00:00Z',
    ...over,
  });
  /** The org's expenditure on one day (to is the next day, as the report wants). */
  const total = async (orgId: string, day: string, minPosition: string) => {
    const to = new Date(Date.parse(`${day}T00:00:00Z`) + 86_400_000).toISOString().slice(0, 10);
    const res = await api.get(
      `/v1/orgs/${orgId}/expenditure?from=${day}&to=${to}&minPosition=${minPosition}`,
    );
    expect(res.status).toBe(200);
    return res.body.total;
  };

  it("given org A recorded an eventId, when org B records its own with that eventId, then B's is recorded and each org counts its own", async () => {
    const [a, b] = orgs;
    const ea = usage(a, { occurredAt: '2026-03-01T10:00:00Z', amount: '1' });
    const eb = { ...usage(b, { occurredAt: '2026-03-01T10:00:00Z', amount: '2' }), eventId: ea.eventId };
    const ra = await api.post('/v1/usage', ea);
    expect(ra.status).toBe(201);
    const rb = await api.post('/v1/usage', eb);
    expect(rb.status).toBe(201);
    expect(rb.body).toMatchObject({ eventId: ea.eventId, status: 'recorded' });
    // And B's copy is idempotent in B, as A's in A.
    expect((await api.post('/v1/usage', eb)).body.status).toBe('duplicate');
    expect((await api.post('/v1/usage', ea)).body.status).toBe('duplicate');
    expect(await total(b.orgId, '2026-03-01', rb.body.position)).toMatchObject({
      amounts: [{ amount: '2', currency: 'EUR' }],
      count: 1,
    });
    expect(await total(a.orgId, '2026-03-01', rb.body.position)).toMatchObject({
      amounts: [{ amount: '1', currency: 'EUR' }],
      count: 1,
    });
  });

  it('given a recorded event, when its eventId comes with another amount or currency, then 409 with the stored fingerprint, and it counts once', async () => {
    const [a] = orgs;
    const e = usage(a, { occurredAt: '2026-03-02T10:00:00Z' });
    const first = await api.post('/v1/usage', e);
    expect(first.status).toBe(201);
    const other = await api.post('/v1/usage', { ...e, amount: '99' });
    expect(other.status).toBe(409);
    expect(other.body).toEqual({
      statusCode: 409,
      error: expect.any(String),
      message: expect.stringMatching(
        new RegExp(`eventId ${e.eventId} is already recorded with a different payload`),
      ),
      details: [
        {
          field: 'eventId',
          problem: 'already recorded with a different payload',
          eventId: e.eventId,
          position: first.body.position,
          fingerprint: expect.stringMatching(/^[0-9a-f]{64}$/),
          storedFingerprint: expect.stringMatching(/^[0-9a-f]{64}$/),
        },
      ],
    });
    const [d] = other.body.details;
    expect(d.fingerprint).not.toBe(d.storedFingerprint);
    const currency = await api.post('/v1/usage', { ...e, currency: 'USD' });
    expect(currency.status).toBe(409);
    expect(currency.body.details[0].storedFingerprint).toBe(d.storedFingerprint);
    // The same payload again is still a plain duplicate.
    expect(await api.post('/v1/usage', e)).toMatchObject({ status: 200, body: { status: 'duplicate' } });
    expect(await total(a.orgId, '2026-03-02', first.body.position)).toMatchObject({
      amounts: [{ amount: '1.25', currency: 'EUR' }],
      count: 1,
    });
  });

  it('given a batch replaying an event with another payload, then that item is a conflict naming the stored fingerprint and the batch answers 200', async () => {
    const [a] = orgs;
    const stored = usage(a, { occurredAt: '2026-03-03T10:00:00Z' });
    const first = await api.post('/v1/usage', stored);
    const fresh = usage(a, { occurredAt: '2026-03-03T11:00:00Z', amount: '2' });
    const res = await api.post('/v1/usage', {
      events: [stored, { ...stored, amount: '3' }, fresh, { ...fresh, itemId: 'other' }],
    });
    expect(res.status).toBe(200);
    expect(res.body.results.map((r: { status: string }) => r.status)).toEqual([
      'duplicate',
      'conflict',
      'recorded',
      'conflict',
    ]);
    expect(res.body.results[1]).toMatchObject({
      eventId: stored.eventId,
      position: first.body.position,
      reason: expect.stringMatching(/different payload/),
      storedFingerprint: expect.stringMatching(/^[0-9a-f]{64}$/),
    });
    expect(res.body.results[3].position).toBe(res.body.results[2].position);
    expect(res.body).toMatchObject({ recorded: 1, duplicates: 1, conflicts: 2, rejected: 0 });
    expect(await total(a.orgId, '2026-03-03', res.body.position)).toMatchObject({
      amounts: [{ amount: '3.25', currency: 'EUR' }],
      count: 2,
    });
  });

  it('given an event stored under its former id in the org stream (usage:<eventId>, before ids were scoped), when sent again, then a duplicate, or 409 with another payload', async () => {
    const [a, b] = orgs;
    const e = usage(a, { occurredAt: '2026-03-04T10:00:00Z', amount: '4' });
    const store = server.app.get<EventStore>(EVENT_STORE);
    const legacy = await store.append(
      `usage-${a.orgId}`,
      [
        {
          type: 'UsageRecorded',
          data: {
            usageId: e.eventId,
            orgId: a.orgId,
            userId: a.userId,
            teamId: a.teamId,
            teamPath: [a.teamId],
            itemType: 'Tool',
            itemId: 'search',
            amount: '4',
            currency: 'EUR',
            inputTokens: null,
            outputTokens: null,
            model: null,
            occurredAt: '2026-03-04T10:00:00.000Z',
            reservationId: null,
            attributes: {},
            timeZone: 'UTC',
            baseCurrency: 'EUR',
          },
          metadata: {
            eventId: `usage:${e.eventId}`,
            correlationId: randomUUID(),
            causationId: null,
            actor: { type: 'system', id: 'test' },
            occurredAt: new Date().toISOString(),
            schemaVersion: 1,
            orgId: a.orgId,
          },
        },
      ],
      'any',
    );
    const position = legacy.position.toString();
    expect(await api.post('/v1/usage', e)).toMatchObject({
      status: 200,
      body: { eventId: e.eventId, status: 'duplicate', position },
    });
    const other = await api.post('/v1/usage', { ...e, amount: '5' });
    expect(other.status).toBe(409);
    expect(other.body.details[0]).toMatchObject({ eventId: e.eventId, position });
    // Another org's same eventId is its own record.
    const inB = await api.post('/v1/usage', { ...usage(b), eventId: e.eventId });
    expect(inB.status).toBe(201);
    expect(await total(a.orgId, '2026-03-04', inB.body.position)).toMatchObject({
      amounts: [{ amount: '4', currency: 'EUR' }],
      count: 1,
    });
  });
}
