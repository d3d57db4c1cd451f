import { randomUUID } from 'node:crypto';
import { EVENT_STORE, EventStore } from '@purser/core';
import { Api, TestServer, startTestServer } from '@purser/testkit';
import { eventually } from '@purser/testkit';
import { UsageStreams } from './events';

const embedded = { MONGODB_URL: undefined, KAFKA_BROKERS: undefined, EVENTSTORE_URL: undefined };

async function orgWithUser(api: Api, baseCurrency: string) {
  const org = await api.post('/v1/orgs', { name: `Money ${randomUUID()}`, baseCurrency, timeZone: 'UTC' });
  expect(org.status).toBe(201);
  const user = await api.post(`/v1/orgs/${org.body.id}/users`, {
    username: `u-${randomUUID().slice(0, 8)}`,
    email: `${randomUUID()}@acme.test`,
  });
  expect(user.status).toBe(201);
  return { orgId: org.body.id as string, userId: user.body.id as string };
}

const usage = (orgId: string, userId: string, over: Record<string, unknown>) => ({
  eventId: randomUUID(),
  orgId,
  userId,
  itemType: 'Agent',
  itemId: 'research-agent',
  occurredAt: '2026-03-10T10:00:00Z',
  ...over,
});

describe('money at the bounds of what the API accepts (embedded engines)', () => {
  let server: TestServer;
  let api: Api;
  beforeAll(async () => {
    server = await startTestServer({ env: embedded });
    api = server.api;
  });
  afterAll(async () => {
    await server?.stop();
    server?.cleanup();
  });

  it('given two of the largest amounts in one bucket, and the largest amount through the largest rate, then every report is exact and nothing degrades', async () => {
    const usd = await orgWithUser(api, 'USD');
    const big = '999999999999999999';
    const a = await api.post('/v1/usage', usage(usd.orgId, usd.userId, { amount: big, currency: 'USD' }));
    const b = await api.post(
      '/v1/usage',
      usage(usd.orgId, usd.userId, { amount: big, currency: 'USD', occurredAt: '2026-03-10T10:30:00Z' }),
    );
    expect([a.status, b.status]).toEqual([201, 201]);
    expect(
      (
        await api.post(`/v1/orgs/${usd.orgId}/exchange-rates`, {
          currency: 'EUR',
          rate: '999999999999.999999999999',
          effectiveFrom: '2026-01-01T00:00:00Z',
        })
      ).status,
    ).toBe(201);
    const largest = '999999999999999999.999999999';
    const c = await api.post('/v1/usage', usage(usd.orgId, usd.userId, { amount: largest, currency: 'EUR' }));
    const d = await api.post(
      '/v1/usage',
      usage(usd.orgId, usd.userId, { amount: '10000000', currency: 'EUR' }),
    );
    expect([c.status, d.status]).toEqual([201, 201]);

    const rep = await api.get(
      `/v1/orgs/${usd.orgId}/expenditure?from=2026-03-10&to=2026-03-11&groupBy=hour&minPosition=${d.body.position}`,
    );
    expect(rep.status).toBe(200);
    // Independent bigint arithmetic in nano-units, rounding half to even at 9 places (no tie here).
    const n = (s: string) => {
      const [int, frac = ''] = s.split('.');
      return BigInt(int) * 10n ** 9n + BigInt(frac.padEnd(9, '0'));
    };
    const rate = 999999999999999999999999n; // 1e-12 units
    const conv = (x: bigint) => (x * rate + 500000000000n) / 1000000000000n;
    const fmt = (x: bigint) => {
      const s = x.toString().padStart(10, '0');
      const frac = s.slice(-9).replace(/0+$/, '');
      return `${s.slice(0, -9)}${frac ? `.${frac}` : ''}`;
    };
    const usdSum = 2n * n(big);
    const eurSum = n(largest) + n('10000000');
    const baseSum = usdSum + conv(n(largest)) + conv(n('10000000'));
    expect(rep.body.total).toMatchObject({
      amounts: [
        { amount: fmt(eurSum), currency: 'EUR' },
        { amount: '1999999999999999998', currency: 'USD' },
      ],
      base: { amount: fmt(baseSum), currency: 'USD', complete: true, unconverted: [] },
      count: 4,
    });
    expect(rep.body.rows).toEqual([expect.objectContaining({ period: '2026-03-10T10', count: 4 })]);
    const top = await api.get(`/v1/orgs/${usd.orgId}/expenditure/top?by=user&from=2026-03-01&to=2026-04-01`);
    expect(top.status).toBe(200);
    expect(top.body.items[0]).toMatchObject({ user: usd.userId, base: { amount: fmt(baseSum) } });
    const records = await api.get(`/v1/orgs/${usd.orgId}/usage-records?from=2026-03-10&to=2026-03-11`);
    expect(records.status).toBe(200);
    expect(records.body.items.map((r: { base: { amount: string } }) => r.base.amount)).toEqual(
      expect.arrayContaining([fmt(conv(n(largest))), fmt(conv(n('10000000'))), big]),
    );
    // Another org's reads and the projections' health are untouched.
    const other = await orgWithUser(api, 'EUR');
    const mine = await api.post(
      '/v1/usage',
      usage(other.orgId, other.userId, { amount: '1.5', currency: 'EUR' }),
    );
    const theirs = await api.get(
      `/v1/orgs/${other.orgId}/expenditure?from=2026-03-10&to=2026-03-11&minPosition=${mine.body.position}`,
    );
    expect(theirs.status).toBe(200);
    expect(theirs.body.total.amounts).toEqual([{ amount: '1.5', currency: 'EUR' }]);
    const health = await api.get('/health');
    expect(health.status).toBe(200);
    expect(health.body.status).toBe('ok');
  });

  it('given ISO 4217 codes the runtime ICU list may lack (VED, CLF, XAU, XTS), then usage and exchange rates accept them; a made-up code is refused', async () => {
    const { orgId, userId } = await orgWithUser(api, 'USD');
    for (const currency of ['VED', 'CLF', 'XAU', 'XTS']) {
      const rate = await api.post(`/v1/orgs/${orgId}/exchange-rates`, {
        currency,
        rate: '2',
        effectiveFrom: '2026-01-01T00:00:00Z',
      });
      expect([currency, rate.status]).toEqual([currency, 201]);
      const u = await api.post('/v1/usage', usage(orgId, userId, { amount: '1', currency }));
      expect([currency, u.status]).toEqual([currency, 201]);
    }
    const bad = await api.post('/v1/usage', usage(orgId, userId, { amount: '1', currency: 'ABC' }));
    expect(bad.status).toBe(400);
    const badRate = await api.post(`/v1/orgs/${orgId}/exchange-rates`, {
      currency: 'ABC',
      rate: '2',
      effectiveFrom: '2026-01-01T00:00:00Z',
    });
    expect(badRate.status).toBe(400);
    expect(badRate.body.details).toEqual([expect.objectContaining({ field: 'currency' })]);
  });
});

describe('a usage event the expenditure projection cannot handle (embedded engines)', () => {
  let server: TestServer;
  let api: Api;
  beforeAll(async () => {
    // Back-pressure from one position of lag and the longest waits: waiting on the failed projection would time out.
    server = await startTestServer({
      env: {
        ...embedded,
        PURSER_INGEST_MAX_LAG: '1',
        PURSER_INGEST_MAX_WAIT_MS: '600000',
        PURSER_MIN_POSITION_TIMEOUT_MS: '60000',
      },
    });
    api = server.api;
  });
  afterAll(async () => {
    await server?.stop();
    server?.cleanup();
  });

  it('given a corrupt stored event, then /health names it and its position, other orgs still record usage without waiting, and their reads answer 503 naming the projection', async () => {
    const victim = await orgWithUser(api, 'USD');
    // Written past the command side (a bug elsewhere, or a hand-edited store): an amount no projection can read.
    const store = server.app.get<EventStore>(EVENT_STORE);
    const eventId = `usage:${randomUUID()}`;
    const bad = await store.append(
      UsageStreams.orgUsage(victim.orgId),
      [
        {
          type: 'UsageRecorded',
          data: {
            ...usage(victim.orgId, victim.userId, { amount: 'not-a-number', currency: 'USD' }),
            usageId: randomUUID(),
            teamId: null,
            teamPath: [],
            inputTokens: null,
            outputTokens: null,
            model: null,
            reservationId: null,
            attributes: {},
            timeZone: 'UTC',
            baseCurrency: 'USD',
          },
          metadata: {
            eventId,
            correlationId: randomUUID(),
            causationId: null,
            actor: { type: 'system', id: 'test' },
            occurredAt: new Date().toISOString(),
            schemaVersion: 1,
            orgId: victim.orgId,
          },
        },
      ],
      'any',
    );
    const other = await orgWithUser(api, 'EUR');
    for (let i = 0; i < 3; i++) {
      const res = await api.post(
        '/v1/usage',
        usage(other.orgId, other.userId, { amount: '1', currency: 'EUR' }),
      );
      expect(res.status).toBe(201);
    }
    // Once the retry confirmed it (a second failure on the same event), it is reported as stuck.
    const health = await eventually(
      () => api.get('/health'),
      (h) =>
        (h.body.projections?.find((p: { name: string }) => p.name === 'expenditure')?.failure?.attempts ??
          0) >= 2,
      { what: 'the expenditure failure confirmed' },
    );
    expect(health.status).toBe(503);
    expect(health.body.status).toBe('degraded');
    expect(health.body.projections).toContainEqual(
      expect.objectContaining({
        name: 'expenditure',
        state: 'failed',
        failure: expect.objectContaining({
          projection: 'expenditure',
          position: bad.position.toString(),
          error: 'not a decimal amount: not-a-number',
          event: {
            type: 'UsageRecorded',
            eventId,
            streamId: UsageStreams.orgUsage(victim.orgId),
            position: bad.position.toString(),
          },
        }),
      }),
    );
    const res = await api.post(
      '/v1/usage',
      usage(other.orgId, other.userId, { amount: '1', currency: 'EUR' }),
    );
    expect(res.status).toBe(201);
    const read = await api.get(
      `/v1/orgs/${other.orgId}/expenditure?from=2026-03-10&to=2026-03-11&minPosition=${res.body.position}`,
    );
    expect(read.status).toBe(503);
    expect(read.body.message).toContain(`projection expenditure failed on event UsageRecorded ${eventId}`);
    expect(read.body.details).toEqual([
      expect.objectContaining({
        field: 'minPosition',
        problem: 'projection failed',
        projection: 'expenditure',
      }),
    ]);
  });
});
