import { randomUUID } from 'node:crypto';
import {
  CommandExecutor,
  EVENT_STORE,
  EventRegistry,
  EventStore,
  MESSAGE_BUS,
  MessageBus,
  toNanos,
} from '@purser/core';
import { CONFIG, ProjectionHost, PurserConfig } from '@purser/platform';
import { Api, TestServer } from '@purser/testkit';
import { eventually } from '@purser/testkit';
import { ReservationSweeper } from '../sweeper';
import { QuotaStreams } from '../events';
import { quotaBookDecider } from '../book.decider';
import { ledgerDecider } from '../ledger.decider';
import { QuotaCheck } from '../check';
import { periodOf } from '../weighing';

/** Quotas through the API: given a directory and quotas, when agents check and spend, then limits hold and alerts fire once. */
export function quotasApiSpec(
  start: (dataDir?: string, env?: Record<string, string>) => Promise<TestServer>,
) {
  let server: TestServer;
  let api: Api;

  beforeAll(async () => {
    server = await start();
    api = server.api;
  });
  afterAll(async () => {
    await server?.stop();
    server?.cleanup();
  });

  /** org (USD, UTC) > grand > parent > child; a user in child. */
  async function world() {
    const org = (
      await api.post('/v1/orgs', { name: `Quota ${randomUUID()}`, baseCurrency: 'USD', timeZone: 'UTC' })
    ).body.id as string;
    const grand = (await api.post(`/v1/orgs/${org}/teams`, { name: 'Grand' })).body.id as string;
    const parent = (await api.post(`/v1/orgs/${org}/teams`, { name: 'Parent', parentTeamId: grand })).body
      .id as string;
    const child = (await api.post(`/v1/orgs/${org}/teams`, { name: 'Child', parentTeamId: parent })).body
      .id as string;
    const user = (
      await api.post(`/v1/orgs/${org}/users`, {
        username: `u${randomUUID().slice(0, 8)}`,
        email: `${randomUUID()}@q.test`,
        primaryTeamId: child,
      })
    ).body.id as string;
    return { org, grand, parent, child, user };
  }
  const quota = async (org: string, body: Record<string, unknown>) => {
    const res = await api.post(`/v1/orgs/${org}/quotas`, body);
    expect(res.status).toBe(201);
    return res.body.id as string;
  };
  const check = (
    org: string,
    user: string,
    amount: string,
    extra: Record<string, unknown> = {},
    via: Api = api,
  ) =>
    via.post(`/v1/orgs/${org}/quota-checks`, {
      userId: user,
      itemType: 'Agent',
      itemId: 'a1',
      estimate: { amount, currency: 'USD' },
      ...extra,
    });
  /** One usage event, as an agent sends it. */
  const usage = (org: string, user: string, amount: string, extra: Record<string, unknown> = {}) => ({
    eventId: randomUUID(),
    orgId: org,
    userId: user,
    itemType: 'Agent',
    itemId: 'a1',
    amount,
    currency: 'USD',
    occurredAt: new Date().toISOString(),
    ...extra,
  });
  const spend = (org: string, user: string, amount: string, extra: Record<string, unknown> = {}) =>
    api.post('/v1/usage', usage(org, user, amount, extra));

  it("given a grandparent team's hard quota, when the user's spend would pass it, then the check is refused naming that quota, and the refusal is audited", async () => {
    const w = await world();
    const q = await quota(w.org, {
      entityType: 'Team',
      entityId: w.grand,
      metric: 'cost',
      limit: '10',
      period: 'month',
    });
    await quota(w.org, {
      entityType: 'User',
      entityId: w.user,
      metric: 'cost',
      limit: '1000',
      period: 'month',
    });
    const first = await check(w.org, w.user, '6');
    expect(first.status).toBe(200);
    expect(first.body).toMatchObject({ allowed: true, reservationId: expect.any(String), refusedBy: null });
    const refused = await check(w.org, w.user, '5');
    expect(refused.status).toBe(429);
    expect(refused.body).toMatchObject({
      statusCode: 429,
      allowed: false,
      refusedBy: { quotaId: q, entityType: 'Team', entityId: w.grand },
    });
    expect(refused.body.message).toMatch(/refuses 5 USD: 0 USD used and 6 USD reserved of 10 USD/);
    const grandView = refused.body.quotas.find((v: { quotaId: string }) => v.quotaId === q);
    expect(grandView).toMatchObject({ limit: '10', used: '0', reserved: '6', remaining: '4' });

    const audit = await api.get(
      `/v1/orgs/${w.org}/quota-refusals?userId=${w.user}&minPosition=${refused.body.position}`,
    );
    expect(audit.body.items).toEqual([
      expect.objectContaining({
        quotaId: q,
        entityType: 'Team',
        entityId: w.grand,
        requested: '5',
        reserved: '6',
        limit: '10',
        requester: expect.objectContaining({ userId: w.user }),
      }),
    ]);

    const mine = await api.get(`/v1/orgs/${w.org}/users/${w.user}/quotas`);
    expect(mine.body.items.map((i: { entityType: string }) => i.entityType).sort()).toEqual(['Team', 'User']);
    expect(mine.body.items.find((i: { quotaId: string }) => i.quotaId === q)).toMatchObject({
      via: 'team Grand',
      remaining: '4',
      currentPeriod: { key: expect.stringMatching(/^\d{4}-\d{2}$/) },
    });
  });

  it('given a reservation, when usage carrying it is recorded, then the actual amount replaces the estimate; a released one frees its room', async () => {
    const w = await world();
    const q = await quota(w.org, { entityType: 'User', entityId: w.user, metric: 'cost', limit: '10' });
    const ok = await check(w.org, w.user, '4');
    const used = await spend(w.org, w.user, '2.5', { reservationId: ok.body.reservationId });
    expect(used.status).toBe(201);
    const view = await api.get(`/v1/orgs/${w.org}/quotas/${q}?minPosition=${used.body.position}`);
    expect(view.body).toMatchObject({ used: '2.5', reserved: '0', remaining: '7.5' });
    const state = await eventually(
      () => api.get(`/v1/orgs/${w.org}/quota-checks/${ok.body.reservationId}`),
      (r) => r.status === 200 && r.body.quotas[0].state === 'settled',
      { what: 'reservation settled' },
    );
    expect(state.body.quotas[0]).toMatchObject({ quotaId: q, state: 'settled' });

    const held = await check(w.org, w.user, '7');
    expect(held.body.allowed).toBe(true);
    expect((await check(w.org, w.user, '1')).status).toBe(429);
    const rel = await api.delete(
      `/v1/orgs/${w.org}/quota-checks/${held.body.reservationId}?minPosition=${held.body.position}`,
    );
    expect(rel.status).toBe(200);
    expect((await check(w.org, w.user, '7')).body.allowed).toBe(true);
  });

  it('given one batch of usage from an org without quotas and from an org with one, then only the usage of the latter counts against its quota', async () => {
    const idle = await world();
    const busy = await world();
    const q = await quota(busy.org, {
      entityType: 'User',
      entityId: busy.user,
      metric: 'cost',
      limit: '100',
    });
    const res = await api.post('/v1/usage', {
      events: [
        usage(idle.org, idle.user, '1'),
        usage(busy.org, busy.user, '2'),
        usage(idle.org, idle.user, '3'),
        usage(busy.org, busy.user, '4'),
        usage(idle.org, idle.user, '5'),
      ],
    });
    expect(res.body.recorded).toBe(5);
    const view = await api.get(`/v1/orgs/${busy.org}/quotas/${q}?minPosition=${res.body.position}`);
    expect(view.body).toMatchObject({ used: '6', remaining: '94' });
  });

  it('given a soft quota, when spend passes it, then checks are still allowed and the warnings and the breach are each emitted once, across a restart and a replay', async () => {
    const w = await world();
    const q = await quota(w.org, {
      entityType: 'Org',
      entityId: w.org,
      metric: 'cost',
      limit: '10',
      enforcement: 'soft',
      thresholds: [50, 80],
      period: 'day',
    });
    const alerts: Array<{ type: string; quotaId: string }> = [];
    const bus = server.app.get<MessageBus>(MESSAGE_BUS as never);
    const config = server.app.get<PurserConfig>(CONFIG as never);
    const sub = await bus.subscribe(
      { topic: config.alertsTopic, groupId: `test-${randomUUID()}` },
      async (batch) => {
        for (const m of batch) alerts.push(m.value as { type: string; quotaId: string });
      },
    );
    let last = '0';
    for (const amount of ['3', '3', '3', '3', '3']) {
      const c = await check(w.org, w.user, amount);
      expect(c.body.allowed).toBe(true);
      last = (await spend(w.org, w.user, amount, { reservationId: c.body.reservationId })).body.position;
    }
    const view = await api.get(`/v1/orgs/${w.org}/quotas/${q}?minPosition=${last}`);
    expect(view.body).toMatchObject({ used: '15', remaining: '0' });
    const list = async () =>
      (await api.get(`/v1/orgs/${w.org}/quota-alerts`)).body.items as Array<{
        type: string;
        threshold?: number;
        used: string;
      }>;
    const got = await eventually(list, (l) => l.length >= 3, { what: 'three alerts' });
    expect(got.map((a) => [a.type, a.threshold ?? null, a.used])).toEqual([
      ['QuotaWarningReached', 50, '6'],
      ['QuotaWarningReached', 80, '9'],
      ['QuotaBreached', null, '12'],
    ]);
    await eventually(
      () => alerts.filter((a) => a.quotaId === q).length,
      (n) => n === 3,
      { what: 'alerts on the bus' },
    );
    await sub.stop();

    // More spend in the same period: nothing new is announced.
    const more = await spend(w.org, w.user, '1');
    await api.get(`/v1/orgs/${w.org}/quotas/${q}?minPosition=${more.body.position}`);
    // Restart, then rebuild every projection from zero (the usage reactor replays all usage): still exactly three.
    const dataDir = server.dataDir;
    await server.stop();
    server = await start(dataDir);
    api = server.api;
    const runner = server.app.get(ProjectionHost).get();
    for (const name of runner.names()) await runner.rebuild(name);
    const after = await api.get(`/v1/orgs/${w.org}/quota-alerts`);
    expect(after.body.items).toHaveLength(3);
    expect((await api.get(`/v1/orgs/${w.org}/quotas/${q}`)).body.used).toBe('16');
  });

  it('given usage on another day, then a daily quota counts it in that day only (periods roll over in the org time zone)', async () => {
    const w = await world();
    const q = await quota(w.org, {
      entityType: 'User',
      entityId: w.user,
      metric: 'cost',
      limit: '5',
      period: 'day',
    });
    const yesterday = new Date(Date.now() - 86_400_000).toISOString();
    const old = await spend(w.org, w.user, '5', { occurredAt: yesterday });
    const view = await api.get(`/v1/orgs/${w.org}/quotas/${q}?minPosition=${old.body.position}`);
    expect(view.body).toMatchObject({ used: '0', remaining: '5' });
    expect((await check(w.org, w.user, '5')).body.allowed).toBe(true);
    expect((await check(w.org, w.user, '0.000000001')).status).toBe(429);
  });

  it('given a short reservation time, when nobody settles it, then it expires, frees its room and the expiry is recorded', async () => {
    const w = await world();
    await quota(w.org, {
      entityType: 'User',
      entityId: w.user,
      metric: 'requests',
      limit: '1',
      period: 'none',
    });
    const config = server.app.get<PurserConfig>(CONFIG as never);
    const ttl = config.reservationTtlMs;
    config.reservationTtlMs = 200;
    try {
      const c = await check(w.org, w.user, '0');
      expect(c.body.allowed).toBe(true);
      expect((await check(w.org, w.user, '0')).status).toBe(429);
      await eventually(
        async () => (await check(w.org, w.user, '0')).status,
        (s) => s === 200,
        { what: 'room freed by expiry' },
      );
      const sweeper = server.app.get(ReservationSweeper);
      await eventually(
        async () => {
          await sweeper.sweep();
          return (await api.get(`/v1/orgs/${w.org}/quota-checks/${c.body.reservationId}`)).body;
        },
        (b) => b.quotas?.[0]?.state === 'expired',
        { what: 'ReservationExpired recorded' },
      );
    } finally {
      config.reservationTtlMs = ttl;
    }
  });

  /** A world whose parent team has a hard monthly quota with room for exactly 10 USD. */
  async function roomForTen() {
    const w = await world();
    const q = await quota(w.org, {
      entityType: 'Team',
      entityId: w.parent,
      metric: 'cost',
      limit: '10',
      period: 'month',
    });
    return { w, q };
  }

  it('given a hard quota with room for exactly 10, when 100 checks arrive in parallel, then exactly 10 are allowed', async () => {
    const { w, q } = await roomForTen();
    const results = await Promise.all(Array.from({ length: 100 }, () => check(w.org, w.user, '1')));
    expect(results.filter((r) => r.status === 200)).toHaveLength(10);
    expect(results.filter((r) => r.status === 429)).toHaveLength(90);
    const view = await api.get(`/v1/orgs/${w.org}/quotas/${q}`);
    expect(view.body).toMatchObject({ used: '0', reserved: '10', remaining: '0' });
  });

  it('given two API instances on one event store, when one decides while the other appends, then the stale decisions are refused by the store and exactly 10 checks are allowed between them', async () => {
    // The second instance shares the data (event store and read models) and runs no projections, as a second API
    // replica would. Each decides on its own cached ledgers: only the event store can keep them from overspending.
    // The race is made certain: the second instance's first append waits until the first instance has appended
    // checks it received after the second one had decided (as if the second ran on a slower machine).
    const second = await start(server.dataDir, { PURSER_PROJECTIONS: 'worker' });
    const store = second.app.get<EventStore>(EVENT_STORE as never);
    const appendMany = store.appendMany.bind(store);
    let decided!: () => void;
    const secondDecided = new Promise<void>((resolve) => (decided = resolve));
    let waited = false;
    let refusedWrites = 0;
    const slow = jest.spyOn(store, 'appendMany').mockImplementation(async (writes) => {
      if (!waited) {
        waited = true;
        const head = await store.headPosition();
        decided();
        const until = Date.now() + 5_000;
        while ((await store.headPosition()) === head && Date.now() < until)
          await new Promise((r) => setTimeout(r, 2));
      }
      const outcomes = await appendMany(writes);
      refusedWrites += outcomes.filter((o) => !o.ok).length;
      return outcomes;
    });
    try {
      const { w, q } = await roomForTen();
      const checks = (via: Api) => Array.from({ length: 50 }, () => check(w.org, w.user, '1', {}, via));
      const viaSecond = checks(second.api);
      await secondDecided;
      const results = await Promise.all([...viaSecond, ...checks(api)]);
      const allowed = results.filter((r) => r.status === 200);
      expect(results.filter((r) => r.status !== 200 && r.status !== 429)).toEqual([]);
      expect(allowed).toHaveLength(10);
      expect(new Set(allowed.map((r) => r.body.reservationId)).size).toBe(10);
      // The race did happen: the second instance's first writes were refused (stale ledgers) and decided again.
      expect(refusedWrites).toBeGreaterThan(0);
      for (const via of [api, second.api]) {
        expect((await via.get(`/v1/orgs/${w.org}/quotas/${q}`)).body).toMatchObject({
          used: '0',
          reserved: '10',
          remaining: '0',
        });
      }
    } finally {
      slow.mockRestore();
      await second.stop();
    }
  });

  it('given bad input, then clear 4xx and nothing changes', async () => {
    const w = await world();
    expect(
      (
        await api.post(`/v1/orgs/${w.org}/quotas`, {
          entityType: 'Team',
          entityId: 'nope',
          metric: 'cost',
          limit: '1',
        })
      ).status,
    ).toBe(404);
    expect(
      (
        await api.post(`/v1/orgs/${w.org}/quotas`, {
          entityType: 'User',
          entityId: w.user,
          metric: 'cost',
          limit: '-1',
        })
      ).status,
    ).toBe(400);
    expect(
      (
        await api.post(`/v1/orgs/${w.org}/quotas`, {
          entityType: 'User',
          entityId: w.user,
          metric: 'tokens',
          limit: '1.5',
        })
      ).status,
    ).toBe(400);
    expect(
      (
        await api.post(`/v1/orgs/${w.org}/quotas`, {
          entityType: 'User',
          entityId: w.user,
          metric: 'cost',
          limit: '1',
          thresholds: [120],
        })
      ).status,
    ).toBe(400);
    expect(
      (
        await api.post(`/v1/orgs/${w.org}/quotas`, {
          entityType: 'Org',
          entityId: 'other',
          metric: 'cost',
          limit: '1',
        })
      ).status,
    ).toBe(422);
    const q = await quota(w.org, { entityType: 'User', entityId: w.user, metric: 'tokens', limit: '100' });
    expect(
      (
        await api.post(`/v1/orgs/${w.org}/quotas`, {
          entityType: 'User',
          entityId: w.user,
          metric: 'tokens',
          limit: '5',
        })
      ).status,
    ).toBe(409);
    const noTokens = await check(w.org, w.user, '1');
    expect(noTokens.status).toBe(422);
    expect(noTokens.body.message).toMatch(/needs estimate.tokens/);
    expect((await check(w.org, w.user, '1', { estimate: { tokens: 50 } })).status).toBe(200);
    expect((await check(w.org, 'ghost', '1')).status).toBe(404);
    expect(
      (await api.patch(`/v1/orgs/${w.org}/quotas/${q}`, { limit: '200' }, { 'if-match': '5' })).status,
    ).toBe(409);
    const changed = await api.patch(`/v1/orgs/${w.org}/quotas/${q}`, { limit: '200' }, { 'if-match': '0' });
    expect(changed.status).toBe(200);
    expect((await api.get(`/v1/orgs/${w.org}/quotas/${q}`)).body).toMatchObject({
      limit: '200',
      reserved: '50',
      revision: '1',
    });
    expect((await api.delete(`/v1/orgs/${w.org}/quotas/${q}`)).status).toBe(200);
    expect((await api.get(`/v1/orgs/${w.org}/quotas/${q}`)).status).toBe(404);
  });

  const actorCtx = () => ({
    actor: { type: 'user' as const, id: 'quota-spec' },
    correlationId: randomUUID(),
    now: new Date().toISOString(),
  });

  it('given a hard quota with room for 3, when 8 checks arrive in one event-loop turn, then they are decided together and appended at once, and exactly the first 3 are allowed', async () => {
    const w = await world();
    const q = await quota(w.org, { entityType: 'User', entityId: w.user, metric: 'cost', limit: '3' });
    const quotas = server.app.get(QuotaCheck);
    const store = server.app.get<EventStore>(EVENT_STORE as never);
    const appendMany = jest.spyOn(store, 'appendMany');
    let results: Array<{ allowed: boolean }>;
    try {
      results = await Promise.all(
        Array.from({ length: 8 }, () =>
          quotas.check(
            w.org,
            { userId: w.user, itemType: 'Agent', itemId: 'a1', estimate: { amount: '1', currency: 'USD' } },
            actorCtx(),
          ),
        ),
      );
      expect(appendMany).toHaveBeenCalledTimes(1);
    } finally {
      appendMany.mockRestore();
    }
    expect(results.map((r) => r.allowed)).toEqual([true, true, true, false, false, false, false, false]);
    expect((await api.get(`/v1/orgs/${w.org}/quotas/${q}`)).body).toMatchObject({
      reserved: '3',
      remaining: '0',
    });
    const audit = await eventually(
      () => api.get(`/v1/orgs/${w.org}/quota-refusals?userId=${w.user}`),
      (r) => r.body.items?.length >= 5,
      { what: 'five refusals audited' },
    );
    expect(audit.body.items).toHaveLength(5);
  });

  /** Another API instance on the same event store reserves on a ledger between this instance's decision and its append. */
  async function withRivalReserving(w: { org: string }, quotaId: string, amount: string) {
    const store = server.app.get<EventStore>(EVENT_STORE as never);
    const rival = new CommandExecutor(store, server.app.get(EventRegistry));
    const append = store.appendMany.bind(store);
    return jest.spyOn(store, 'appendMany').mockImplementationOnce(async (writes) => {
      const now = new Date().toISOString();
      const q = (await rival.current(QuotaStreams.book(w.org), quotaBookDecider)).state.quotas.get(quotaId)!;
      const period = periodOf(q, now, 'UTC').key;
      await rival.execute(
        QuotaStreams.ledger(quotaId, period),
        ledgerDecider,
        {
          type: 'Reserve',
          quota: q,
          period,
          reservationId: randomUUID(),
          amount: toNanos(amount),
          now,
          expiresAt: new Date(Date.now() + 60_000).toISOString(),
          requester: { userId: 'rival', teamId: null, itemType: 'Agent', itemId: 'a1' },
        },
        { ...actorCtx(), now },
        { orgId: w.org },
      );
      return append(writes);
    });
  }

  /**
   * A team quota of `teamLimit` and a user quota of 100 with 4 reserved on each, then a check of 4 during which a
   * rival instance reserves 5 on the team's ledger. Answers the check and how many appends it took.
   */
  async function checkWhileRivalReserves(teamLimit: string) {
    const w = await world();
    const team = await quota(w.org, {
      entityType: 'Team',
      entityId: w.parent,
      metric: 'cost',
      limit: teamLimit,
    });
    const mine = await quota(w.org, { entityType: 'User', entityId: w.user, metric: 'cost', limit: '100' });
    expect((await check(w.org, w.user, '4')).status).toBe(200);
    const appendMany = await withRivalReserving(w, team, '5');
    try {
      const res = await check(w.org, w.user, '4');
      return { w, team, mine, res, appends: appendMany.mock.calls.length };
    } finally {
      appendMany.mockRestore();
    }
  }

  it("given another instance reserving on a shared ledger while a check is being appended, then the check's append is refused, what it did reserve is released, and it is decided again on the fresh ledger (refused: no overspend)", async () => {
    const { w, team, mine, res, appends } = await checkWhileRivalReserves('10');
    expect(appends).toBe(2);
    expect(res.status).toBe(429);
    expect(res.body.refusedBy).toMatchObject({ quotaId: team });
    expect(res.body.message).toMatch(/refuses 4 USD: 0 USD used and 9 USD reserved of 10 USD/);
    expect((await api.get(`/v1/orgs/${w.org}/quotas/${team}`)).body).toMatchObject({ reserved: '9' });
    expect((await api.get(`/v1/orgs/${w.org}/quotas/${mine}`)).body).toMatchObject({ reserved: '4' });
  });

  it('given another instance reserving on a shared ledger while a check is being appended, when there is still room, then the check is allowed on its second try and holds exactly one reservation per quota', async () => {
    const { w, team, mine, res } = await checkWhileRivalReserves('20');
    expect(res.status).toBe(200);
    expect(res.body.quotas.find((v: { quotaId: string }) => v.quotaId === team)).toMatchObject({
      reserved: '13',
    });
    expect((await api.get(`/v1/orgs/${w.org}/quotas/${team}`)).body).toMatchObject({ reserved: '13' });
    expect((await api.get(`/v1/orgs/${w.org}/quotas/${mine}`)).body).toMatchObject({ reserved: '8' });
    const held = await eventually(
      () =>
        api.get(`/v1/orgs/${w.org}/quota-checks/${res.body.reservationId}?minPosition=${res.body.position}`),
      (r) => r.status === 200 && r.body.quotas?.length === 2,
      { what: 'the reservation on both quotas' },
    );
    expect(held.body.quotas.map((r: { state: string }) => r.state)).toEqual(['live', 'live']);
  });

  it('given a malformed check, then 400 names the fields at fault and nothing is appended', async () => {
    const w = await world();
    await quota(w.org, { entityType: 'User', entityId: w.user, metric: 'cost', limit: '10' });
    const store = server.app.get<EventStore>(EVENT_STORE as never);
    const head = await store.headPosition();
    const res = await api.post(`/v1/orgs/${w.org}/quota-checks`, {
      userId: w.user,
      itemType: 'Robot',
      itemId: 'a1',
      estimate: { amount: 'lots', currency: 'USD', extra: 1 },
    });
    expect(res.status).toBe(400);
    expect(res.body).toMatchObject({ statusCode: 400, error: expect.any(String) });
    expect(res.body.message).toMatch(/^invalid request: /);
    expect(res.body.details.map((d: { field: string }) => d.field).sort()).toEqual(
      ['estimate.amount', 'estimate.extra', 'itemType'].sort(),
    );
    expect(await store.headPosition()).toBe(head);
  });
}
