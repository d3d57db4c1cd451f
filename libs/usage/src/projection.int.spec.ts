import { RecordedEvent } from '@purser/core';
import { SqliteReadStore } from '@purser/engines';
import { UsageRecorded } from './events';
import { BUCKETS, BucketDoc, ExpenditureProjection, RECORDS, TOTALS, TotalDoc } from './projection';

const ORG = 'org-1';

function usage(
  position: number,
  userId: string,
  teamPath: string[],
  amount: string,
  currency: string,
  occurredAt: string,
): RecordedEvent<UsageRecorded> {
  return {
    streamId: `usage-${ORG}`,
    revision: BigInt(position),
    position: BigInt(position),
    type: 'UsageRecorded',
    data: {
      usageId: `u-${position}`,
      orgId: ORG,
      userId,
      teamId: teamPath[0] ?? null,
      teamPath,
      itemType: 'Tool',
      itemId: position % 2 ? 'web.search' : 'code-runner',
      amount,
      currency,
      inputTokens: null,
      outputTokens: null,
      model: null,
      occurredAt,
      reservationId: null,
      attributes: {},
      timeZone: 'Europe/Paris',
      baseCurrency: 'EUR',
    },
    metadata: {
      eventId: `usage:u-${position}`,
      correlationId: 'c',
      causationId: null,
      actor: { type: 'system', id: 'test' },
      occurredAt: '2026-11-25T12:00:00.000Z',
      schemaVersion: 1,
      orgId: ORG,
    },
  };
}

/** Three hours over two local days (Paris), two users, nested teams, two currencies (USD without a rate). */
const EVENTS = [
  usage(1, 'alice', ['t-a', 't-root'], '1.000000001', 'EUR', '2026-03-01T21:10:00Z'),
  usage(2, 'bob', ['t-b', 't-root'], '2.5', 'EUR', '2026-03-01T21:40:00Z'),
  usage(3, 'alice', ['t-a', 't-root'], '0.25', 'USD', '2026-03-01T22:05:00Z'),
  usage(4, 'bob', ['t-b', 't-root'], '10', 'EUR', '2026-03-01T23:30:00Z'),
  usage(5, 'alice', [], '0.000000009', 'EUR', '2026-03-01T23:59:59Z'),
  usage(6, 'bob', ['t-b', 't-root'], '3', 'USD', '2026-03-02T00:00:00Z'),
];

async function project(batches: Array<typeof EVENTS>) {
  const store = new SqliteReadStore(':memory:');
  const projection = new ExpenditureProjection();
  for (const c of projection.collections) await store.ensureCollection(c);
  for (const batch of batches) await projection.handle(batch, store);
  const strip = <T extends { _id: string }>(docs: T[]) => docs.sort((x, y) => (x._id < y._id ? -1 : 1));
  const all = async <T extends { _id: string }>(collection: string) =>
    strip((await store.find<T>(collection, {}, { limit: 1000 })).items);
  const result = {
    buckets: await all<BucketDoc>(BUCKETS),
    totals: await all<TotalDoc>(TOTALS),
    records: (await all<{ _id: string; usageId: string }>(RECORDS)).map((r) => r.usageId),
  };
  await store.close();
  return result;
}

describe('expenditure projection', () => {
  it('given usage over several hours, when projected in one batch or one event at a time, then every document is the same', async () => {
    const whole = await project([EVENTS]);
    const oneByOne = await project(EVENTS.map((e) => [e]));
    expect(oneByOne).toEqual(whole);
    const day = whole.totals.find((t) => t._id === `${ORG}|day|2026-03-01`)!;
    // Paris is UTC+1 in March: events 1-3 fall on March 1st, 4-6 on March 2nd.
    expect(day.total).toEqual({
      a: { EUR: '3.500000001', USD: '0.25' },
      b: '3.500000001',
      u: { USD: '0.25' },
      n: 3,
    });
    const month = whole.buckets.find((b) => b._id === `${ORG}|month|2026-03`)!;
    expect(month.byTeam['t-root'].a).toEqual({ EUR: '13.500000001', USD: '3.25' });
    expect(month.byUser.alice.n).toBe(3);
    expect(whole.records).toHaveLength(6);
  });

  it('given batches delivered again with overlaps, when projected, then each event counts once', async () => {
    const whole = await project([EVENTS]);
    const redelivered = await project([
      EVENTS.slice(0, 3),
      EVENTS.slice(1, 5),
      EVENTS.slice(0, 6),
      EVENTS.slice(4),
    ]);
    expect(redelivered).toEqual(whole);
  });

  it('given another writer moved a bucket the projection has cached, when it writes, then the batch fails and, delivered again, counts right', async () => {
    const store = new SqliteReadStore(':memory:');
    const a = new ExpenditureProjection();
    const b = new ExpenditureProjection();
    for (const c of a.collections) await store.ensureCollection(c);
    await a.handle(EVENTS.slice(0, 2), store);
    await b.handle(EVENTS.slice(2, 4), store); // reads afresh: sees what a wrote
    await expect(a.handle(EVENTS.slice(4), store)).rejects.toThrow(/changed under the projection/);
    await a.handle(EVENTS.slice(4), store); // the runner delivers the batch again
    const totals = (await store.find<TotalDoc>(TOTALS, {}, { limit: 1000 })).items.sort((x, y) =>
      x._id < y._id ? -1 : 1,
    );
    const buckets = (await store.find<BucketDoc>(BUCKETS, {}, { limit: 1000 })).items.sort((x, y) =>
      x._id < y._id ? -1 : 1,
    );
    const whole = await project([EVENTS]);
    expect(totals).toEqual(whole.totals);
    expect(buckets).toEqual(whole.buckets);
    await store.close();
  });
});
