import { padPosition } from '@purser/core';
import { GivenEvent, projectionSpec } from '@purser/testkit';
import type { UsageRecorded } from '@purser/usage';
import { InsightSeriesProjection, SERIES_DAYS, SERIES_ENTITIES, seriesDayId } from './series.projection';

// The insight-series projection over the in-memory read store: given usage events, then exactly these documents.

const ORG = 'org-1';

function usage(usageId: string, amount: string, more: Partial<UsageRecorded['data']> = {}): GivenEvent {
  const data: UsageRecorded['data'] = {
    usageId,
    orgId: ORG,
    userId: 'user-1',
    teamId: 'team-b',
    teamPath: ['team-b', 'team-a'],
    itemType: 'Tool',
    itemId: 'web.search',
    amount,
    currency: 'USD',
    inputTokens: null,
    outputTokens: null,
    model: null,
    occurredAt: '2026-01-15T10:05:00.000Z',
    reservationId: null,
    attributes: {},
    timeZone: 'Europe/Paris',
    baseCurrency: 'USD',
    ...more,
  };
  return { type: 'UsageRecorded', data, streamId: `usage-${ORG}` };
}

const day = (entity: string, d: string, hours: Record<string, unknown>, pos: number) => ({
  _id: seriesDayId(ORG, entity, d),
  orgId: ORG,
  entity,
  day: d,
  hours,
  _pos: padPosition(BigInt(pos)),
});

describe('insight-series projection (given usage, then hourly series)', () => {
  it('given usage in two UTC hours and two currencies, then every entity of the path has exact hourly sums and calls', async () => {
    const events = [
      usage('u-1', '0.1'),
      usage('u-2', '0.2', { occurredAt: '2026-01-15T10:59:59.999Z' }),
      usage('u-3', '1.000000001', { currency: 'EUR', occurredAt: '2026-01-15T11:00:00.000Z' }),
      usage('u-4', '5', { userId: 'user-2', teamPath: ['team-a'], teamId: 'team-a', itemId: 'fetch' }),
    ];
    const hours1 = { '10': { a: { USD: '0.3' }, n: 2 }, '11': { a: { EUR: '1.000000001' }, n: 1 } };
    await projectionSpec(() => new InsightSeriesProjection())
      .given(events)
      .thenIdempotent({
        [SERIES_DAYS]: [
          day('item:Tool:fetch', '2026-01-15', { '10': { a: { USD: '5' }, n: 1 } }, 4),
          day('item:Tool:web.search', '2026-01-15', hours1, 3),
          day('org', '2026-01-15', { ...hours1, '10': { a: { USD: '5.3' }, n: 3 } }, 4),
          day('team:team-a', '2026-01-15', { ...hours1, '10': { a: { USD: '5.3' }, n: 3 } }, 4),
          day('team:team-b', '2026-01-15', hours1, 3),
          day('user:user-1', '2026-01-15', hours1, 3),
          day('user:user-2', '2026-01-15', { '10': { a: { USD: '5' }, n: 1 } }, 4),
        ].sort((x, y) => (x._id < y._id ? -1 : 1)),
        [SERIES_ENTITIES]: expect.arrayContaining([
          expect.objectContaining({
            _id: `${ORG}|org`,
            entityType: 'org',
            entityId: ORG,
            timeZone: 'Europe/Paris',
            firstDay: '2026-01-15',
            calls: { USD: 3, EUR: 1 },
            _pos: padPosition(4n),
          }),
          expect.objectContaining({ _id: `${ORG}|team:team-b`, calls: { USD: 2, EUR: 1 } }),
        ]),
      });
  });

  it('given many small amounts, then the sum is exact (no float drift)', async () => {
    const events = Array.from({ length: 10 }, (_, i) => usage(`u-${i}`, '0.1'));
    const store = await projectionSpec(() => new InsightSeriesProjection(), { batchSize: 3 })
      .given(events)
      .thenIdempotent({});
    const doc = await store.get(SERIES_DAYS, seriesDayId(ORG, 'org', '2026-01-15'));
    expect(doc?.hours).toEqual({ '10': { a: { USD: '1' }, n: 10 } });
  });

  it('given usage on two UTC days, then each day has its own document and the entity keeps the first day', async () => {
    const store = await projectionSpec(() => new InsightSeriesProjection())
      .given([usage('u-1', '2', { occurredAt: '2026-01-16T23:30:00+01:00' }), usage('u-2', '3')])
      .thenIdempotent({});
    expect((await store.get(SERIES_DAYS, seriesDayId(ORG, 'org', '2026-01-16')))?.hours).toEqual({
      '22': { a: { USD: '2' }, n: 1 },
    });
    expect((await store.get(SERIES_ENTITIES, `${ORG}|org`))?.firstDay).toBe('2026-01-15');
  });
});
