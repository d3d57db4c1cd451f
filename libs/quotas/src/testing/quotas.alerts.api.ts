import { randomUUID } from 'node:crypto';
import { MESSAGE_BUS, MessageBus } from '@purser/core';
import { CONFIG, ProjectionHost, PurserConfig } from '@purser/platform';
import { eventually } from '@purser/testkit';
import { ReservationSweeper } from '../sweeper';
import { QuotaFixture } from './quotas.fixture';

/** Alerts, periods and expiry: soft quotas warn and breach once (across restart and replay), daily periods roll over, unsettled reservations expire. */
export function quotaAlertsSpec(f: QuotaFixture) {
  const { world, quota, check, spend } = f;

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
    const bus = f.server.app.get<MessageBus>(MESSAGE_BUS as never);
    const config = f.server.app.get<PurserConfig>(CONFIG as never);
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
    const view = await f.api.get(`/v1/orgs/${w.org}/quotas/${q}?minPosition=${last}`);
    expect(view.body).toMatchObject({ used: '15', remaining: '0' });
    const list = async () =>
      (await f.api.get(`/v1/orgs/${w.org}/quota-alerts`)).body.items as Array<{
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
    await f.api.get(`/v1/orgs/${w.org}/quotas/${q}?minPosition=${more.body.position}`);
    // Restart, then rebuild every projection from zero (the usage reactor replays all usage): still exactly three.
    const dataDir = f.server.dataDir;
    await f.server.stop();
    f.server = await f.start(dataDir);
    f.api = f.server.api;
    const runner = f.server.app.get(ProjectionHost).get();
    for (const name of runner.names()) await runner.rebuild(name);
    const after = await f.api.get(`/v1/orgs/${w.org}/quota-alerts`);
    expect(after.body.items).toHaveLength(3);
    expect((await f.api.get(`/v1/orgs/${w.org}/quotas/${q}`)).body.used).toBe('16');
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
    const view = await f.api.get(`/v1/orgs/${w.org}/quotas/${q}?minPosition=${old.body.position}`);
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
    const config = f.server.app.get<PurserConfig>(CONFIG as never);
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
      const sweeper = f.server.app.get(ReservationSweeper);
      await eventually(
        async () => {
          await sweeper.sweep();
          return (await f.api.get(`/v1/orgs/${w.org}/quota-checks/${c.body.reservationId}`)).body;
        },
        (b) => b.quotas?.[0]?.state === 'expired',
        { what: 'ReservationExpired recorded' },
      );
    } finally {
      config.reservationTtlMs = ttl;
    }
  });
}
