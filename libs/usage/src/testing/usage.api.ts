import { randomUUID } from 'node:crypto';
import { EVENT_STORE, EventStore, addDecimal } from '@purser/core';
import { ProjectionHost } from '@purser/platform';
import { Api, TestServer } from '@purser/testkit';

/** Usage and expenditure over HTTP: given a directory, when usage is sent, then the reports add up to the cent. */
export function usageApiSpec(start: () => Promise<TestServer>) {
  let server: TestServer;
  let api: Api;
  let orgId: string;
  let eng: string, platform: string, storage: string, sales: string;
  let ada: string, bob: string, cy: string;

  beforeAll(async () => {
    server = await start();
    api = server.api;
    const org = await api.post('/v1/orgs', {
      name: `Usage ${randomUUID()}`,
      baseCurrency: 'EUR',
      timeZone: 'Europe/Paris',
    });
    orgId = org.body.id;
    eng = (await api.post(`/v1/orgs/${orgId}/teams`, { name: 'Engineering' })).body.id;
    platform = (await api.post(`/v1/orgs/${orgId}/teams`, { name: 'Platform', parentTeamId: eng })).body.id;
    storage = (await api.post(`/v1/orgs/${orgId}/teams`, { name: 'Storage', parentTeamId: platform })).body
      .id;
    sales = (await api.post(`/v1/orgs/${orgId}/teams`, { name: 'Sales' })).body.id;
    const u = async (name: string, team: string) =>
      (
        await api.post(`/v1/orgs/${orgId}/users`, {
          username: `${name}-${randomUUID().slice(0, 8)}`,
          email: `${randomUUID()}@acme.test`,
          primaryTeamId: team,
        })
      ).body.id as string;
    ada = await u('ada', storage);
    bob = await u('bob', platform);
    cy = await u('cy', sales);
  });
  afterAll(async () => {
    await server?.stop();
    server?.cleanup();
  });

  const usage = (over: Record<string, unknown> = {}) => ({
    eventId: randomUUID(),
    orgId,
    userId: ada,
    itemType: 'Agent',
    itemId: 'research-agent',
    amount: '0.0125',
    currency: 'EUR',
    occurredAt: '2026-11-20T10:00:00Z',
    ...over,
  });

  it('given one event, when posted twice, then 201 recorded then 200 duplicate, and it counts once', async () => {
    const e = usage({
      amount: '1.5',
      occurredAt: '2026-10-01T08:00:00Z',
      inputTokens: 10,
      outputTokens: 5,
      model: 'm1',
      attributes: { run: 'r1' },
    });
    const first = await api.post('/v1/usage', e);
    expect(first.status).toBe(201);
    expect(first.body).toMatchObject({
      eventId: e.eventId,
      status: 'recorded',
      position: expect.stringMatching(/^\d+$/),
    });
    const again = await api.post('/v1/usage', e);
    expect(again.status).toBe(200);
    expect(again.body.status).toBe('duplicate');
    const rep = await api.get(
      `/v1/orgs/${orgId}/expenditure?from=2026-10-01&to=2026-10-02&minPosition=${first.body.position}`,
    );
    expect(rep.body.total).toMatchObject({ amounts: [{ amount: '1.5', currency: 'EUR' }], count: 1 });
  });

  it('given an eventId recorded in its own stream (the layout before per-org usage streams), when sent again, then it is a duplicate', async () => {
    const e = usage({ amount: '2', occurredAt: '2025-06-01T08:00:00Z' });
    const store = server.app.get<EventStore>(EVENT_STORE);
    const legacy = await store.append(
      `usage-${orgId}-${e.eventId}`,
      [
        {
          type: 'UsageRecorded',
          data: {
            usageId: e.eventId,
            orgId,
            userId: ada,
            teamId: storage,
            teamPath: [storage, platform, eng],
            itemType: 'Agent',
            itemId: 'research-agent',
            amount: '2',
            currency: 'EUR',
            inputTokens: null,
            outputTokens: null,
            model: null,
            occurredAt: '2025-06-01T08:00:00Z',
            reservationId: null,
            attributes: {},
            timeZone: 'Europe/Paris',
            baseCurrency: 'EUR',
          },
          metadata: {
            eventId: `usage:${e.eventId}`,
            correlationId: randomUUID(),
            causationId: null,
            actor: { type: 'system', id: 'test' },
            occurredAt: new Date().toISOString(),
            schemaVersion: 1,
            orgId,
          },
        },
      ],
      'no_stream',
    );
    const again = await api.post('/v1/usage', e);
    expect(again.status).toBe(200);
    expect(again.body).toEqual({
      eventId: e.eventId,
      status: 'duplicate',
      position: legacy.position.toString(),
    });
    const rep = await api.get(
      `/v1/orgs/${orgId}/expenditure?from=2025-06-01&to=2025-06-02&minPosition=${legacy.position}`,
    );
    expect(rep.body.total).toMatchObject({ amounts: [{ amount: '2', currency: 'EUR' }], count: 1 });
  });

  it('given a batch with good, duplicate and bad events, then each gets its own status and reason', async () => {
    const good = usage();
    const res = await api.post('/v1/usage', {
      events: [
        good,
        good,
        usage({ amount: '1e3' }),
        usage({ userId: 'nobody' }),
        usage({ orgId: 'no-such-org' }),
        usage({ currency: 'XYZ' }),
        usage({ itemType: 'Robot' }),
        usage({ teamId: sales }),
        { ...usage(), extra: 1 },
      ],
    });
    expect(res.status).toBe(200);
    expect(res.body.results.map((r: { status: string }) => r.status)).toEqual([
      'recorded',
      'duplicate',
      'rejected',
      'rejected',
      'rejected',
      'rejected',
      'rejected',
      'rejected',
      'rejected',
    ]);
    const reasons = res.body.results.slice(2).map((r: { reason: string }) => r.reason);
    expect(reasons).toEqual([
      expect.stringMatching(/amount must be a decimal/),
      expect.stringMatching(/unknown user nobody/),
      expect.stringMatching(/unknown org no-such-org/),
      expect.stringMatching(/currency must be an ISO 4217/),
      expect.stringMatching(/itemType must be one of/),
      expect.stringMatching(/not a member of team/),
      expect.stringMatching(/unknown field extra/),
    ]);
    expect(res.body).toMatchObject({ recorded: 1, duplicates: 1, rejected: 7 });
  });

  it('given bad envelopes, then 400 and nothing recorded; a refused single event is 422', async () => {
    expect((await api.post('/v1/usage', { events: [] })).status).toBe(400);
    expect(
      (await api.post('/v1/usage', { events: Array.from({ length: 1001 }, () => usage()) })).status,
    ).toBe(400);
    expect((await api.post('/v1/usage', usage({ amount: '-1' }))).status).toBe(400);
    const refused = await api.post('/v1/usage', usage({ userId: 'ghost' }));
    expect(refused.status).toBe(422);
    expect(refused.body.message).toMatch(/unknown user ghost/);
  });

  it('given usage across teams, items and currencies, then every report equals the exact sum of what was sent', async () => {
    await api.post(`/v1/orgs/${orgId}/exchange-rates`, {
      currency: 'USD',
      rate: '0.9',
      effectiveFrom: '2026-01-01T00:00:00Z',
    });
    const rate = await api.post(`/v1/orgs/${orgId}/exchange-rates`, {
      currency: 'USD',
      rate: '0.8',
      effectiveFrom: '2026-09-01T00:00:00Z',
    });
    expect(rate.status).toBe(201);
    const sent = [
      usage({ userId: ada, amount: '0.000000001', occurredAt: '2026-09-02T23:30:00Z', currency: 'EUR' }), // Sep 3 in Paris
      usage({ userId: ada, amount: '10', occurredAt: '2026-09-02T12:00:00Z', currency: 'USD' }), // 8 EUR at 0.8
      usage({
        userId: bob,
        amount: '0.1',
        occurredAt: '2026-09-02T12:00:00Z',
        itemType: 'Tool',
        itemId: 'web.search',
      }),
      usage({
        userId: bob,
        amount: '0.2',
        occurredAt: '2026-09-03T09:00:00Z',
        itemType: 'Tool',
        itemId: 'web.search',
      }),
      usage({ userId: cy, amount: '100', occurredAt: '2026-09-03T09:00:00Z', currency: 'JPY' }), // no JPY rate
      usage({
        userId: cy,
        amount: '3.333333333',
        occurredAt: '2026-09-04T09:00:00Z',
        itemType: 'Prompt',
        itemId: 'p1',
      }),
    ];
    const res = await api.post('/v1/usage', sent);
    expect(res.body.results.filter((r: { status: string }) => r.status !== 'recorded')).toEqual([]);
    expect(res.body.recorded).toBe(6);
    const pos = res.body.position;

    const byDay = await api.get(
      `/v1/orgs/${orgId}/expenditure?from=2026-09-01&to=2026-09-08&groupBy=day&minPosition=${pos}`,
    );
    expect(byDay.status).toBe(200);
    expect(byDay.body.source).toBe('buckets');
    expect(byDay.body.rows.map((r: { period: string }) => r.period)).toEqual([
      '2026-09-02',
      '2026-09-03',
      '2026-09-04',
    ]);
    expect(byDay.body.rows[1]).toMatchObject({
      period: '2026-09-03',
      amounts: [
        { amount: '0.200000001', currency: 'EUR' },
        { amount: '100', currency: 'JPY' },
      ],
      base: {
        amount: '0.200000001',
        currency: 'EUR',
        complete: false,
        unconverted: [{ amount: '100', currency: 'JPY' }],
      },
      count: 3,
    });
    expect(byDay.body.total.base).toMatchObject({ amount: '11.633333334', currency: 'EUR', complete: false });

    const byTeam = await api.get(`/v1/orgs/${orgId}/expenditure?from=2026-09-01&to=2026-09-08&groupBy=team`);
    const team = (id: string) => byTeam.body.rows.find((r: { team: string }) => r.team === id);
    expect(team(storage).base.amount).toBe('8.000000001');
    expect(team(platform).base.amount).toBe('8.300000001'); // includes Storage
    expect(team(eng).base.amount).toBe('8.300000001');
    expect(team(sales).amounts).toEqual([
      { amount: '3.333333333', currency: 'EUR' },
      { amount: '100', currency: 'JPY' },
    ]);

    const dayTeam = await api.get(
      `/v1/orgs/${orgId}/expenditure?from=2026-09-01&to=2026-09-08&groupBy=day,team&teamId=${platform}`,
    );
    expect(
      dayTeam.body.rows.map((r: { period: string; base: { amount: string } }) => [r.period, r.base.amount]),
    ).toEqual([
      ['2026-09-02', '8.1'],
      ['2026-09-03', '0.200000001'],
    ]);

    const crossed = await api.get(
      `/v1/orgs/${orgId}/expenditure?from=2026-09-01&to=2026-09-08&groupBy=user,itemType&teamId=${eng}`,
    );
    expect(crossed.body.source).toBe('records');
    const bobTool = crossed.body.rows.find(
      (r: { user: string; itemType: string }) => r.user === bob && r.itemType === 'Tool',
    );
    expect(bobTool.base.amount).toBe('0.3');

    const item = await api.get(
      `/v1/orgs/${orgId}/expenditure?from=2026-09-01&to=2026-09-08&groupBy=month&itemType=Tool&itemId=web.search`,
    );
    expect(item.body.rows).toEqual([
      expect.objectContaining({
        period: '2026-09',
        base: expect.objectContaining({ amount: '0.3' }),
        count: 2,
      }),
    ]);

    const top = await api.get(
      `/v1/orgs/${orgId}/expenditure/top?by=user&from=2026-09-01&to=2026-09-08&limit=2`,
    );
    expect(top.body.items.map((i: { user: string }) => i.user)).toEqual([ada, cy]);

    // The records cover exactly what the buckets add up.
    const recs = await api.get(`/v1/orgs/${orgId}/usage-records?from=2026-09-01&to=2026-09-08&limit=2`);
    let all = [...recs.body.items];
    let cursor = recs.body.nextCursor;
    while (cursor) {
      const p = await api.get(
        `/v1/orgs/${orgId}/usage-records?from=2026-09-01&to=2026-09-08&limit=2&cursor=${encodeURIComponent(cursor)}`,
      );
      all = all.concat(p.body.items);
      cursor = p.body.nextCursor;
    }
    expect(all).toHaveLength(6);
    const usd = all.find((r: { currency: string }) => r.currency === 'USD');
    expect(usd.base).toMatchObject({
      amount: '8',
      currency: 'EUR',
      rate: '0.8',
      rateEffectiveFrom: '2026-09-01T00:00:00.000Z',
    });
    expect(all.find((r: { currency: string }) => r.currency === 'JPY').base.rateMissing).toBe(true);
    const eurSum = all
      .filter((r: { currency: string }) => r.currency === 'EUR')
      .reduce((s: string, r: { amount: string }) => addDecimal(s, r.amount), '0');
    expect(byDay.body.total.amounts.find((a: { currency: string }) => a.currency === 'EUR').amount).toBe(
      eurSum,
    );

    const csv = await fetch(
      `${server.url}/v1/orgs/${orgId}/usage-records.csv?from=2026-09-01&to=2026-09-08`,
      {
        headers: { authorization: `Bearer ${server.adminToken}` },
      },
    );
    expect(csv.headers.get('content-type')).toMatch(/text\/csv/);
    const lines = (await csv.text()).trim().split('\n');
    expect(lines[0]).toMatch(/^eventId,occurredAt,userId/);
    expect(lines).toHaveLength(7);

    // Replay is exact: rebuilding the projection from zero gives identical answers.
    const before = [byDay.body, byTeam.body, dayTeam.body, crossed.body, top.body];
    await server.app.get(ProjectionHost).get().rebuild('expenditure');
    const again = await Promise.all([
      api.get(`/v1/orgs/${orgId}/expenditure?from=2026-09-01&to=2026-09-08&groupBy=day`),
      api.get(`/v1/orgs/${orgId}/expenditure?from=2026-09-01&to=2026-09-08&groupBy=team`),
      api.get(
        `/v1/orgs/${orgId}/expenditure?from=2026-09-01&to=2026-09-08&groupBy=day,team&teamId=${platform}`,
      ),
      api.get(
        `/v1/orgs/${orgId}/expenditure?from=2026-09-01&to=2026-09-08&groupBy=user,itemType&teamId=${eng}`,
      ),
      api.get(`/v1/orgs/${orgId}/expenditure/top?by=user&from=2026-09-01&to=2026-09-08&limit=2`),
    ]);
    expect(again.map((r) => r.body)).toEqual(before);

    // A later batch updates the existing buckets in place, item keys with '.' and ':' included.
    const later = await api.post('/v1/usage', [
      usage({
        userId: bob,
        amount: '0.05',
        occurredAt: '2026-09-03T10:00:00Z',
        itemType: 'Tool',
        itemId: 'web.search',
      }),
    ]);
    expect(later.body.recorded).toBe(1);
    const updated = await api.get(
      `/v1/orgs/${orgId}/expenditure?from=2026-09-01&to=2026-09-08&groupBy=item&minPosition=${later.body.position}`,
    );
    expect(updated.body.rows.find((r: { item: string }) => r.item === 'Tool:web.search')).toMatchObject({
      base: expect.objectContaining({ amount: '0.35' }),
      count: 3,
    });
  });

  it('given bad report queries, then 400 naming the field', async () => {
    const bad = async (qs: string, field: string) => {
      const res = await api.get(`/v1/orgs/${orgId}/expenditure?${qs}`);
      expect(res.status).toBe(400);
      expect(res.body.details.map((d: { field: string }) => d.field)).toContain(field);
    };
    await bad('from=2026-09-01', 'to');
    await bad('from=2026-09-05&to=2026-09-01', 'to');
    await bad('from=2026-09-01&to=2026-09-02&groupBy=day,week', 'groupBy');
    await bad('from=2026-09-01&to=2026-09-02&groupBy=color', 'groupBy');
    await bad('from=2026-01-01&to=2026-09-02&groupBy=hour', 'to');
    await bad('from=yesterday&to=2026-09-02', 'from');
    expect((await api.get(`/v1/orgs/nope/expenditure?from=2026-09-01&to=2026-09-02`)).status).toBe(404);
    expect(
      (
        await api.post(`/v1/orgs/${orgId}/exchange-rates`, {
          currency: 'EUR',
          rate: '1',
          effectiveFrom: '2026-01-01T00:00:00Z',
        })
      ).status,
    ).toBe(422);
    expect(
      (
        await api.post(`/v1/orgs/${orgId}/exchange-rates`, {
          currency: 'USD',
          rate: '0',
          effectiveFrom: '2026-01-01T00:00:00Z',
        })
      ).status,
    ).toBe(400);
  });
}
