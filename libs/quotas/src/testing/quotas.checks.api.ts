import { eventually } from '@purser/testkit';
import { QuotaFixture } from './quotas.fixture';

/** Checks and settlement: a refusal names its quota and is audited, a reservation is settled by its usage or released, usage of orgs without quotas is skipped. */
export function quotaChecksSpec(f: QuotaFixture) {
  const { world, quota, check, usage, spend } = f;

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

    const audit = await f.api.get(
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

    const mine = await f.api.get(`/v1/orgs/${w.org}/users/${w.user}/quotas`);
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
    const view = await f.api.get(`/v1/orgs/${w.org}/quotas/${q}?minPosition=${used.body.position}`);
    expect(view.body).toMatchObject({ used: '2.5', reserved: '0', remaining: '7.5' });
    const state = await eventually(
      () => f.api.get(`/v1/orgs/${w.org}/quota-checks/${ok.body.reservationId}`),
      (r) => r.status === 200 && r.body.quotas[0].state === 'settled',
      { what: 'reservation settled' },
    );
    expect(state.body.quotas[0]).toMatchObject({ quotaId: q, state: 'settled' });

    const held = await check(w.org, w.user, '7');
    expect(held.body.allowed).toBe(true);
    expect((await check(w.org, w.user, '1')).status).toBe(429);
    const rel = await f.api.delete(
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
    const res = await f.api.post('/v1/usage', {
      events: [
        usage(idle.org, idle.user, '1'),
        usage(busy.org, busy.user, '2'),
        usage(idle.org, idle.user, '3'),
        usage(busy.org, busy.user, '4'),
        usage(idle.org, idle.user, '5'),
      ],
    });
    expect(res.body.recorded).toBe(5);
    const view = await f.api.get(`/v1/orgs/${busy.org}/quotas/${q}?minPosition=${res.body.position}`);
    expect(view.body).toMatchObject({ used: '6', remaining: '94' });
  });
}
