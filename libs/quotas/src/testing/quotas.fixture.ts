import { randomUUID } from 'node:crypto';
import { Api, ApiResponse, TestServer } from '@purser/testkit';

/** A started server with the helpers every quota spec uses; `server` and `api` change when a spec restarts it. */
export interface QuotaFixture {
  server: TestServer;
  api: Api;
  start: (dataDir?: string, env?: Record<string, string>) => Promise<TestServer>;
  world(): Promise<{ org: string; grand: string; parent: string; child: string; user: string }>;
  quota(org: string, body: Record<string, unknown>): Promise<string>;
  check(
    org: string,
    user: string,
    amount: string,
    extra?: Record<string, unknown>,
    via?: Api,
  ): Promise<ApiResponse>;
  usage(org: string, user: string, amount: string, extra?: Record<string, unknown>): Record<string, unknown>;
  spend(org: string, user: string, amount: string, extra?: Record<string, unknown>): Promise<ApiResponse>;
}

/** Starts the server before the specs and stops it after; answers the fixture they share. */
export function quotaFixture(
  start: (dataDir?: string, env?: Record<string, string>) => Promise<TestServer>,
): QuotaFixture {
  const f = { start } as QuotaFixture;
  beforeAll(async () => {
    f.server = await start();
    f.api = f.server.api;
  });
  afterAll(async () => {
    await f.server?.stop();
    f.server?.cleanup();
  });

  /** org (USD, UTC) > grand > parent > child; a user in child. */
  async function world() {
    const org = (
      await f.api.post('/v1/orgs', { name: `Quota ${randomUUID()}`, baseCurrency: 'USD', timeZone: 'UTC' })
    ).body.id as string;
    const grand = (await f.api.post(`/v1/orgs/${org}/teams`, { name: 'Grand' })).body.id as string;
    const parent = (await f.api.post(`/v1/orgs/${org}/teams`, { name: 'Parent', parentTeamId: grand })).body
      .id as string;
    const child = (await f.api.post(`/v1/orgs/${org}/teams`, { name: 'Child', parentTeamId: parent })).body
      .id as string;
    const user = (
      await f.api.post(`/v1/orgs/${org}/users`, {
        username: `u${randomUUID().slice(0, 8)}`,
        email: `${randomUUID()}@q.test`,
        primaryTeamId: child,
      })
    ).body.id as string;
    return { org, grand, parent, child, user };
  }
  const quota = async (org: string, body: Record<string, unknown>) => {
    const res = await f.api.post(`/v1/orgs/${org}/quotas`, body);
    expect(res.status).toBe(201);
    return res.body.id as string;
  };
  const check = (org: string, user: string, amount: string, extra: Record<string, unknown> = {}, via?: Api) =>
    (via ?? f.api).post(`/v1/orgs/${org}/quota-checks`, {
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
    f.api.post('/v1/usage', usage(org, user, amount, extra));

  return Object.assign(f, { world, quota, check, usage, spend });
}
