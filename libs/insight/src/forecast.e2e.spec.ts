import { randomUUID } from 'node:crypto';
import { Api, TestServer, startTestServer } from '@purser/testkit';

// The forecast over HTTP: given ten weeks of usage with an exact weekly pattern (recorded through POST /v1/usage with
// past occurredAt), when the forecast is asked for, then its figures match a computation by hand: the days of the
// period before today as they were spent, plus the pattern for today and the days left (every method that fits the
// pattern exactly has a zero backtest error, so the intervals close on the point).

const ZONE = 'Asia/Tokyo'; // UTC+9, no daylight saving: local noon is 03:00 UTC
const OFFSET_MS = 9 * 3_600_000;
const DAY_MS = 86_400_000;
const HISTORY_DAYS = 70;
/** Spend per weekday (Sunday first), binary-exact so float sums are exact too. */
const ADA = [1, 2, 4, 8, 0.5, 0.25, 3];
const BOB = [0.5, 0, 1, 1, 2, 4, 0.125];

/** The local (Tokyo) calendar day `back` days before today, as a UTC-midnight timestamp. */
const localDay = (back: number) => {
  const local = new Date(Date.now() + OFFSET_MS);
  return Date.UTC(local.getUTCFullYear(), local.getUTCMonth(), local.getUTCDate()) - back * DAY_MS;
};
const weekday = (dayMs: number) => new Date(dayMs).getUTCDay();
const iso = (dayMs: number) => new Date(dayMs).toISOString().slice(0, 10);

/** The local days of the current period from its first day to its last, per horizon (ISO weeks start on Monday). */
function period(horizon: 'day' | 'week' | 'month'): { first: number; last: number } {
  const today = localDay(0);
  if (horizon === 'day') return { first: today, last: today };
  if (horizon === 'week') {
    const first = today - ((weekday(today) + 6) % 7) * DAY_MS;
    return { first, last: first + 6 * DAY_MS };
  }
  const d = new Date(today);
  return {
    first: Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), 1),
    last: Date.UTC(d.getUTCFullYear(), d.getUTCMonth() + 1, 1) - DAY_MS,
  };
}

/** By hand: the period's days before today as spent, plus the pattern for today and after. */
function byHand(pattern: number[], horizon: 'day' | 'week' | 'month') {
  const { first, last } = period(horizon);
  const today = localDay(0);
  let actual = 0;
  let expected = 0;
  for (let d = first; d <= last; d += DAY_MS) {
    if (d < today) actual += pattern[weekday(d)];
    expected += pattern[weekday(d)];
  }
  return { actual: String(actual), expected: String(expected), remainingDays: (last - today) / DAY_MS + 1 };
}

describe('forecast API on the embedded engines', () => {
  let server: TestServer;
  let api: Api;
  let orgId: string;
  let eng: string, platform: string;
  let ada: string, bob: string, newcomer: string;
  let lastPosition: string;

  beforeAll(async () => {
    server = await startTestServer({
      env: { MONGODB_URL: undefined, KAFKA_BROKERS: undefined, EVENTSTORE_URL: undefined },
    });
    api = server.api;
    orgId = (
      await api.post('/v1/orgs', { name: `Insight ${randomUUID()}`, baseCurrency: 'JPY', timeZone: ZONE })
    ).body.id;
    eng = (await api.post(`/v1/orgs/${orgId}/teams`, { name: 'Engineering' })).body.id;
    platform = (await api.post(`/v1/orgs/${orgId}/teams`, { name: 'Platform', parentTeamId: eng })).body.id;
    const user = async (name: string, team: string) =>
      (
        await api.post(`/v1/orgs/${orgId}/users`, {
          username: `${name}-${randomUUID().slice(0, 8)}`,
          email: `${randomUUID()}@acme.test`,
          primaryTeamId: team,
        })
      ).body.id as string;
    ada = await user('ada', platform);
    bob = await user('bob', eng);
    newcomer = await user('cy', eng);
    const events: object[] = [];
    const at = (dayMs: number, hourUtc: number) =>
      new Date(dayMs + hourUtc * 3_600_000 - OFFSET_MS).toISOString();
    const record = (userId: string, item: string, amount: number, occurredAt: string) => {
      const [itemType, itemId] = item.split(':');
      events.push({
        eventId: randomUUID(),
        orgId,
        userId,
        itemType,
        itemId,
        amount: String(amount),
        currency: 'USD',
        occurredAt,
      });
    };
    for (let back = HISTORY_DAYS; back >= 1; back--) {
      const day = localDay(back);
      // Ada's day in two calls (local 09:00 and 23:30), Bob's in one at local 00:15: all inside the local day.
      record(ada, 'Agent:research', ADA[weekday(day)] / 2, at(day, 9));
      record(ada, 'Agent:research', ADA[weekday(day)] / 2, at(day, 23.5));
      record(bob, 'Tool:web.search', BOB[weekday(day)], at(day, 0.25));
    }
    for (let back = 3; back >= 1; back--) record(newcomer, 'Tool:web.search', 1, at(localDay(back), 12));
    const res = await api.post('/v1/usage', { events });
    expect(res.status).toBe(200);
    expect(res.body.results.every((r: { status: string }) => r.status === 'recorded')).toBe(true);
    lastPosition = res.body.results
      .map((r: { position: string }) => r.position)
      .sort((x: string, y: string) => (BigInt(x) < BigInt(y) ? -1 : 1))
      .pop();
  });
  afterAll(async () => {
    await server?.stop();
    server?.cleanup();
  });

  const get = (query: string) => api.get(`/v1/orgs/${orgId}/forecast?${query}&minPosition=${lastPosition}`);

  it.each(['day', 'week', 'month'] as const)(
    'given ten weeks of a weekly pattern, when a user’s %s forecast is asked, then it is the period so far plus the pattern for the days left',
    async (horizon) => {
      const res = await get(`entityType=user&entityId=${ada}&horizon=${horizon}`);
      expect(res.status).toBe(200);
      const hand = byHand(ADA, horizon);
      expect(res.body).toMatchObject({
        entityType: 'user',
        entityId: ada,
        horizon,
        currency: 'USD',
        timeZone: ZONE,
        actualToDate: hand.actual,
        expected: hand.expected,
        backtestMae: '0',
        interval80: { low: hand.expected, high: hand.expected },
        interval95: { low: hand.expected, high: hand.expected },
        history: { days: HISTORY_DAYS, from: iso(localDay(HISTORY_DAYS)), to: iso(localDay(1)) },
      });
      expect(res.body.period.remainingDays).toBe(hand.remainingDays);
      // A 7-day total is matched exactly by the run rate too (the simplest wins a tie); otherwise the weekday profile.
      expect(res.body.method).toBe(hand.remainingDays % 7 === 0 ? 'run-rate' : 'seasonal-naive');
    },
  );

  it('given a team with a sub-team, when its forecast is asked, then it covers both; the sub-team only its own; the org all', async () => {
    const sub = await get(`entityType=team&entityId=${platform}&horizon=month`);
    expect(sub.status).toBe(200);
    expect(sub.body).toMatchObject({
      actualToDate: byHand(ADA, 'month').actual,
      expected: byHand(ADA, 'month').expected,
    });
    // Engineering holds Ada (through Platform), Bob and the newcomer (1 a day on the last three days).
    const team = await get(`entityType=team&entityId=${eng}&horizon=month`);
    expect(team.status).toBe(200);
    const { first } = period('month');
    const newcomerInPeriod = [3, 2, 1].filter((back) => localDay(back) >= first).length;
    const both = ADA.map((v, i) => v + BOB[i]);
    expect(team.body.actualToDate).toBe(String(Number(byHand(both, 'month').actual) + newcomerInPeriod));
    expect(team.body.history.days).toBe(HISTORY_DAYS);
    expect(Number(team.body.expected)).toBeGreaterThanOrEqual(Number(team.body.actualToDate));
    // Every user is under Engineering: the org's series is the same one.
    const org = await get(`entityType=org&entityId=${orgId}&horizon=month`);
    expect(org.status).toBe(200);
    const { entityType: _t, entityId: _i, ...orgFigures } = org.body;
    const { entityType: _t2, entityId: _i2, ...teamFigures } = team.body;
    expect(orgFigures).toEqual(teamFigures);
    const item = await get('entityType=item&entityId=Agent:research&horizon=month');
    expect(item.body.expected).toBe(byHand(ADA, 'month').expected);
  });

  it('given an unknown user or item, then 404; given three days of history, then 422 saying how much is needed', async () => {
    const unknownUser = await get('entityType=user&entityId=nobody&horizon=day');
    expect(unknownUser.status).toBe(404);
    const unknownItem = await get('entityType=item&entityId=Tool:never.used&horizon=day');
    expect(unknownItem.status).toBe(404);
    const short = await get(`entityType=user&entityId=${newcomer}&horizon=day`);
    expect(short.status).toBe(422);
    expect(short.body.details).toEqual([
      expect.objectContaining({ field: 'history', needed: 14 + 1 + 8 - 1, days: 3 }),
    ]);
    expect(short.body.message).toContain('needs 22 days');
  });

  it('given a bad horizon or a team without an id, then 400 naming the field', async () => {
    const bad = await get(`entityType=org&entityId=${orgId}&horizon=year`);
    expect(bad.status).toBe(400);
    const noId = await get('entityType=team&horizon=day');
    expect(noId.status).toBe(400);
    expect(noId.body.details).toEqual([expect.objectContaining({ field: 'entityId' })]);
  });
});
