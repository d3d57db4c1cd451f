import { EVENT_STORE, EventStore } from '@purser/core';
import { QuotaFixture } from './quotas.fixture';

/** Bad input: clear 4xx naming the fields at fault, and nothing changes. */
export function quotaInputSpec(f: QuotaFixture) {
  const { world, quota, check } = f;
  /** The status of defining a quota with this body. */
  const define = async (org: string, body: Record<string, unknown>) =>
    (await f.api.post(`/v1/orgs/${org}/quotas`, body)).status;

  it('given bad input, then clear 4xx and nothing changes', async () => {
    const w = await world();
    const user = { entityType: 'User', entityId: w.user };
    expect(await define(w.org, { entityType: 'Team', entityId: 'nope', metric: 'cost', limit: '1' })).toBe(
      404,
    );
    expect(await define(w.org, { ...user, metric: 'cost', limit: '-1' })).toBe(400);
    expect(await define(w.org, { ...user, metric: 'tokens', limit: '1.5' })).toBe(400);
    expect(await define(w.org, { ...user, metric: 'cost', limit: '1', thresholds: [120] })).toBe(400);
    expect(await define(w.org, { entityType: 'Org', entityId: 'other', metric: 'cost', limit: '1' })).toBe(
      422,
    );
    const q = await quota(w.org, { ...user, metric: 'tokens', limit: '100' });
    expect(await define(w.org, { ...user, metric: 'tokens', limit: '5' })).toBe(409);
    const noTokens = await check(w.org, w.user, '1');
    expect(noTokens.status).toBe(422);
    expect(noTokens.body.message).toMatch(/needs estimate.tokens/);
    expect((await check(w.org, w.user, '1', { estimate: { tokens: 50 } })).status).toBe(200);
    expect((await check(w.org, 'ghost', '1')).status).toBe(404);
    expect(
      (await f.api.patch(`/v1/orgs/${w.org}/quotas/${q}`, { limit: '200' }, { 'if-match': '5' })).status,
    ).toBe(409);
    const changed = await f.api.patch(`/v1/orgs/${w.org}/quotas/${q}`, { limit: '200' }, { 'if-match': '0' });
    expect(changed.status).toBe(200);
    expect((await f.api.get(`/v1/orgs/${w.org}/quotas/${q}`)).body).toMatchObject({
      limit: '200',
      reserved: '50',
      revision: '1',
    });
    expect((await f.api.delete(`/v1/orgs/${w.org}/quotas/${q}`)).status).toBe(200);
    expect((await f.api.get(`/v1/orgs/${w.org}/quotas/${q}`)).status).toBe(404);
  });

  it('given a malformed check, then 400 names the fields at fault and nothing is appended', async () => {
    const w = await world();
    await quota(w.org, { entityType: 'User', entityId: w.user, metric: 'cost', limit: '10' });
    const store = f.server.app.get<EventStore>(EVENT_STORE as never);
    const head = await store.headPosition();
    const res = await f.api.post(`/v1/orgs/${w.org}/quota-checks`, {
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
