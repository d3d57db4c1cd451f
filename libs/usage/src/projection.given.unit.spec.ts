import { padPosition } from '@purser/core';
import { GivenEvent, projectionSpec } from '@purser/testkit';
import { UsageRecorded } from './events';
import { BUCKETS, ExpenditureProjection, RECORDS, TOTALS, bucketId } from './projection';

// The expenditure projection over the in-memory read store: given usage (and rate) events, then exactly these
// documents. Every usage below happens on 2026-01-15 at 10:xx UTC, so it lands in one bucket per grain.

const ORG = 'org-1';
const PERIODS = { hour: '2026-01-15T10', day: '2026-01-15', week: 'W2026-01-12', month: '2026-01' } as const;

function usage(usageId: string, amount: string, currency = 'USD', more: Partial<UsageRecorded['data']> = {}) {
  const data: UsageRecorded['data'] = {
    usageId,
    orgId: ORG,
    userId: 'user-1',
    teamId: null,
    teamPath: [],
    itemType: 'Tool',
    itemId: 'web.search',
    amount,
    currency,
    inputTokens: null,
    outputTokens: null,
    model: null,
    occurredAt: '2026-01-15T10:05:00.000Z',
    reservationId: null,
    attributes: {},
    timeZone: 'UTC',
    baseCurrency: 'USD',
    ...more,
  };
  return { type: 'UsageRecorded', data, streamId: `usage-${ORG}` } satisfies GivenEvent;
}

const rate = (currency: string, value: string): GivenEvent => ({
  type: 'ExchangeRateSet',
  data: { orgId: ORG, currency, baseCurrency: 'USD', rate: value, effectiveFrom: '2026-01-01T00:00:00.000Z' },
  streamId: `rates-${ORG}`,
});

/** The org's bucket of each grain, in _id order (the order the spec compares documents in). */
const grains = () =>
  (Object.entries(PERIODS) as Array<[keyof typeof PERIODS, string]>)
    .map(([grain, period]) => ({ grain, period, _id: bucketId(ORG, grain, period) }))
    .sort((x, y) => (x._id < y._id ? -1 : 1));

/** The org's totals document of each grain, all with this entry, last written at `position`. */
function totals(
  total: { a: Record<string, string>; b: string; u?: Record<string, string>; n: number },
  position: number,
) {
  return grains().map(({ grain, period, _id }) => ({
    _id,
    orgId: ORG,
    grain,
    period,
    baseCurrency: 'USD',
    total: { u: {}, ...total },
    _pos: padPosition(BigInt(position)),
  }));
}

describe('expenditure projection (given events, then documents)', () => {
  it('given two usages in one bucket, then each grain totals them exactly (no float rounding)', async () => {
    await projectionSpec(() => new ExpenditureProjection())
      .given([usage('u-1', '0.1'), usage('u-2', '0.2')])
      .then({ [TOTALS]: totals({ a: { USD: '0.3' }, b: '0.3', n: 2 }, 2) });
  });

  it('given a rate and a usage in that currency, then the base amount is converted exactly and the original kept', async () => {
    await projectionSpec(() => new ExpenditureProjection())
      .given([rate('EUR', '1.1'), usage('u-1', '10.01', 'EUR')])
      .then({
        [TOTALS]: totals({ a: { EUR: '10.01' }, b: '11.011', n: 1 }, 2),
        [RECORDS]: [
          expect.objectContaining({
            _id: `${ORG}:${padPosition(2n)}`,
            amount: '10.01',
            currency: 'EUR',
            baseAmount: '11.011',
            rate: '1.1',
            rateEffectiveFrom: '2026-01-01T00:00:00.000Z',
          }),
        ],
      });
  });

  it('given a usage in a currency without a rate, then it is counted as unconverted, not as zero', async () => {
    await projectionSpec(() => new ExpenditureProjection())
      .given([usage('u-1', '5', 'GBP')])
      .then({ [TOTALS]: totals({ a: { GBP: '5' }, b: '0', u: { GBP: '5' }, n: 1 }, 1) });
  });

  it('given an event delivered again (a redelivery), then it is counted once', async () => {
    await projectionSpec(() => new ExpenditureProjection())
      .given([usage('u-1', '1.5'), usage('u-2', '2.25', 'USD', { userId: 'user-2' })])
      .thenIdempotent({
        [TOTALS]: totals({ a: { USD: '3.75' }, b: '3.75', n: 2 }, 2),
        [BUCKETS]: grains().map(({ _id }) =>
          expect.objectContaining({
            _id,
            total: { a: { USD: '3.75' }, b: '3.75', u: {}, n: 2 },
            byUser: {
              'user-1': { a: { USD: '1.5' }, b: '1.5', u: {}, n: 1 },
              'user-2': { a: { USD: '2.25' }, b: '2.25', u: {}, n: 1 },
            },
          }),
        ),
        [RECORDS]: [
          expect.objectContaining({ usageId: 'u-1', amount: '1.5' }),
          expect.objectContaining({ usageId: 'u-2', amount: '2.25' }),
        ],
      });
  });
});
