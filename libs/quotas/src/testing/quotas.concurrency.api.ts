import { randomUUID } from 'node:crypto';
import { CommandExecutor, EVENT_STORE, EventRegistry, EventStore, toNanos } from '@purser/core';
import { Api, eventually } from '@purser/testkit';
import { QuotaStreams } from '../events';
import { quotaBookDecider } from '../book.decider';
import { ledgerDecider } from '../ledger.decider';
import { QuotaCheck } from '../check';
import { periodOf } from '../weighing';
import { QuotaFixture } from './quotas.fixture';

/** Concurrency: parallel checks, two API instances, one group commit per event-loop turn, a rival instance moving a ledger mid-append. */
export function quotaConcurrencySpec(f: QuotaFixture) {
  const { world, quota, check } = f;

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
    const view = await f.api.get(`/v1/orgs/${w.org}/quotas/${q}`);
    expect(view.body).toMatchObject({ used: '0', reserved: '10', remaining: '0' });
  });

  it('given two API instances on one event store, when one decides while the other appends, then the stale decisions are refused by the store and exactly 10 checks are allowed between them', async () => {
    // The second instance shares the data (event store and read models) and runs no projections, as a second API
    // replica would. Each decides on its own cached ledgers: only the event store can keep them from overspending.
    // The race is made certain: the second instance's first append waits until the first instance has appended
    // checks it received after the second one had decided (as if the second ran on a slower machine).
    const second = await f.start(f.server.dataDir, { PURSER_PROJECTIONS: 'worker' });
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
      const results = await Promise.all([...viaSecond, ...checks(f.api)]);
      const allowed = results.filter((r) => r.status === 200);
      expect(results.filter((r) => r.status !== 200 && r.status !== 429)).toEqual([]);
      expect(allowed).toHaveLength(10);
      expect(new Set(allowed.map((r) => r.body.reservationId)).size).toBe(10);
      // The race did happen: the second instance's first writes were refused (stale ledgers) and decided again.
      expect(refusedWrites).toBeGreaterThan(0);
      for (const via of [f.api, second.api]) {
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

  const actorCtx = () => ({
    actor: { type: 'user' as const, id: 'quota-spec' },
    correlationId: randomUUID(),
    now: new Date().toISOString(),
  });

  it('given a hard quota with room for 3, when 8 checks arrive in one event-loop turn, then they are decided together and appended at once, and exactly the first 3 are allowed', async () => {
    const w = await world();
    const q = await quota(w.org, { entityType: 'User', entityId: w.user, metric: 'cost', limit: '3' });
    const quotas = f.server.app.get(QuotaCheck);
    const store = f.server.app.get<EventStore>(EVENT_STORE as never);
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
    expect((await f.api.get(`/v1/orgs/${w.org}/quotas/${q}`)).body).toMatchObject({
      reserved: '3',
      remaining: '0',
    });
    const audit = await eventually(
      () => f.api.get(`/v1/orgs/${w.org}/quota-refusals?userId=${w.user}`),
      (r) => r.body.items?.length >= 5,
      { what: 'five refusals audited' },
    );
    expect(audit.body.items).toHaveLength(5);
  });

  /** Another API instance on the same event store reserves on a ledger between this instance's decision and its append. */
  async function withRivalReserving(w: { org: string }, quotaId: string, amount: string) {
    const store = f.server.app.get<EventStore>(EVENT_STORE as never);
    const rival = new CommandExecutor(store, f.server.app.get(EventRegistry));
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
    expect((await f.api.get(`/v1/orgs/${w.org}/quotas/${team}`)).body).toMatchObject({ reserved: '9' });
    expect((await f.api.get(`/v1/orgs/${w.org}/quotas/${mine}`)).body).toMatchObject({ reserved: '4' });
  });

  it('given another instance reserving on a shared ledger while a check is being appended, when there is still room, then the check is allowed on its second try and holds exactly one reservation per quota', async () => {
    const { w, team, mine, res } = await checkWhileRivalReserves('20');
    expect(res.status).toBe(200);
    expect(res.body.quotas.find((v: { quotaId: string }) => v.quotaId === team)).toMatchObject({
      reserved: '13',
    });
    expect((await f.api.get(`/v1/orgs/${w.org}/quotas/${team}`)).body).toMatchObject({ reserved: '13' });
    expect((await f.api.get(`/v1/orgs/${w.org}/quotas/${mine}`)).body).toMatchObject({ reserved: '8' });
    const held = await eventually(
      () =>
        f.api.get(
          `/v1/orgs/${w.org}/quota-checks/${res.body.reservationId}?minPosition=${res.body.position}`,
        ),
      (r) => r.status === 200 && r.body.quotas?.length === 2,
      { what: 'the reservation on both quotas' },
    );
    expect(held.body.quotas.map((r: { state: string }) => r.state)).toEqual(['live', 'live']);
  });
}
