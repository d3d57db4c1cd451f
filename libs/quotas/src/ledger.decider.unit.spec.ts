import { StaleStateError, fold } from '@purser/core';
import { given } from '@purser/testkit';
import { LedgerEvent, QuotaDefinition } from './events';
import { aQuota } from './testing/quota-definition';
import { QuotaRefusal, ledgerDecider, reservedAt } from './ledger.decider';

const N = 1_000_000_000n;
const requester = { userId: 'u1', teamId: 't1', itemType: 'Agent', itemId: 'a1' };
const reserved = (id: string, amount: string, expiresAt = '2026-11-25T10:05:00.000Z'): LedgerEvent => ({
  type: 'QuotaReserved',
  data: { quotaId: 'q1', orgId: 'o1', period: '2026-11', reservationId: id, amount, expiresAt, requester },
});
const reserve = (amount: bigint, over: Partial<QuotaDefinition> = {}) => ({
  type: 'Reserve' as const,
  quota: aQuota(over),
  period: '2026-11',
  reservationId: 'r-new',
  amount,
  now: '2026-11-25T10:00:00.000Z',
  expiresAt: '2026-11-25T10:05:00.000Z',
  requester,
});

describe('quota ledger decider', () => {
  it('given 6 of 10 reserved, when reserving 5 on a hard quota, then it is refused with the figures', () => {
    const err = given(ledgerDecider, [reserved('r1', '6')])
      .when(reserve(5n * N))
      .thenRefuses(QuotaRefusal, /refuses 5 USD: 0 USD used and 6 USD reserved of 10 USD/);
    expect((err as QuotaRefusal).reserved).toBe(6n * N);
  });

  it('given 6 of 10 reserved, when reserving exactly the 4 left, then QuotaReserved', () => {
    given(ledgerDecider, [reserved('r1', '6')])
      .when(reserve(4n * N))
      .then([{ type: 'QuotaReserved' }]);
  });

  it('given a soft quota, when reserving beyond the limit, then it is allowed', () => {
    given(ledgerDecider, [reserved('r1', '10')])
      .when(reserve(5n * N, { enforcement: 'soft' }))
      .then([{ type: 'QuotaReserved' }]);
  });

  it('given an expired reservation not yet recorded, then it holds nothing at decision time', () => {
    given(ledgerDecider, [reserved('r1', '10', '2026-11-25T09:59:00.000Z')])
      .when(reserve(10n * N))
      .then([{ type: 'QuotaReserved' }]);
  });

  it('given a reservation, when usage settles it beyond the thresholds, then the actual replaces the estimate and each warning comes once', () => {
    const count = (usageId: string, position: bigint, amount: bigint, reservationId: string | null) => ({
      type: 'Count' as const,
      quota: aQuota(),
      period: '2026-11',
      usageId,
      usagePosition: position,
      amount,
      reservationId,
      unconverted: null,
    });
    const settled = given(ledgerDecider, [reserved('r1', '4')])
      .when(count('u1', 10n, 6n * N, 'r1'))
      .then([
        { type: 'ReservationSettled', data: expect.objectContaining({ estimate: '4', actual: '6' }) },
        { type: 'QuotaWarningReached', data: expect.objectContaining({ threshold: 50 }) },
      ]);
    const after = [reserved('r1', '4'), ...(settled as LedgerEvent[])];
    // The same usage again (a redelivery) changes nothing.
    given(ledgerDecider, after)
      .when(count('u1', 10n, 6n * N, 'r1'))
      .thenNothing();
    given(ledgerDecider, after)
      .when(count('u2', 11n, 5n * N, null))
      .then([
        { type: 'UsageCounted' },
        { type: 'QuotaWarningReached', data: expect.objectContaining({ threshold: 80 }) },
        { type: 'QuotaBreached', data: expect.objectContaining({ used: '11' }) },
      ]);
  });

  it('given a state superseded by a newer fold, when deciding on it, then StaleStateError (the executor retries)', () => {
    const old = fold(ledgerDecider, [reserved('r1', '1')]);
    ledgerDecider.evolve(old, reserved('r2', '1'));
    expect(() => reservedAt(old, '2026-11-25T10:00:00.000Z')).toThrow(StaleStateError);
  });

  it('given 100,000 live reservations, then folding and deciding stay cheap (no copy per event)', () => {
    let state = ledgerDecider.initialState();
    for (let i = 0; i < 100_000; i++)
      state = ledgerDecider.evolve(
        state,
        reserved(`r${i}`, '0.0001', `2026-11-25T10:${String(5 + (i % 50)).padStart(2, '0')}:00.000Z`),
      );
    expect(reservedAt(state, '2026-11-25T10:00:00.000Z')).toBe(10n * N);
    // Minutes 05..30 have expired: 26 of 50 expiry slots.
    expect(reservedAt(state, '2026-11-25T10:30:00.000Z')).toBe(48n * (N / 10n));
  });
});
