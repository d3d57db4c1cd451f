import { SYSTEM_ACTOR, padPosition } from '@purser/core';
import { DEFAULT_AT, GivenEvent, projectionSpec } from '@purser/testkit';
import { LedgerEvent } from './events';
import { QuotaDecisionsProjection } from './projections';
import { ALERTS, REFUSALS, RESERVATIONS } from './read-models';

// The decisions projection over the in-memory read store: given ledger events, then exactly these reservations,
// refusals and alerts. Positions count 1, 2, 3... in the order given; event ids are evt-<position>.

const ORG = 'org-1';
const PERIOD = '2026-01';
const requester = { userId: 'user-1', teamId: 'team-1', itemType: 'Agent', itemId: 'a1' };
const figures = { metric: 'cost' as const, currency: 'USD', limit: '10' };

type Data<T extends LedgerEvent['type']> = Omit<
  Extract<LedgerEvent, { type: T }>['data'],
  'orgId' | 'period' | 'quotaId'
> & { quotaId?: string };

function ledger<T extends LedgerEvent['type']>(type: T, data: Data<T>, occurredAt = DEFAULT_AT): GivenEvent {
  const quotaId = data.quotaId ?? 'q1';
  return {
    type,
    data: { orgId: ORG, period: PERIOD, ...data, quotaId },
    streamId: `quotaledger-${quotaId}-${PERIOD}`,
    occurredAt,
  };
}

const reserved = (reservationId: string, amount: string, quotaId = 'q1') =>
  ledger('QuotaReserved', {
    quotaId,
    reservationId,
    amount,
    expiresAt: '2026-01-15T10:05:00.000Z',
    requester,
  });

/** The reservation document of a reservation on a quota, as QuotaReserved writes it. */
const reservation = (
  reservationId: string,
  amount: string,
  position: number,
  more: Record<string, unknown> = {},
  quotaId = 'q1',
) => ({
  _id: `${reservationId}|${quotaId}`,
  reservationId,
  orgId: ORG,
  quotaId,
  period: PERIOD,
  amount,
  expiresAt: '2026-01-15T10:05:00.000Z',
  requester,
  state: 'live',
  at: DEFAULT_AT,
  _pos: padPosition(BigInt(position)),
  ...more,
});

/** A refusal or an alert as the projection keeps it: the event's data, its id, time and position, and `more`. */
const decision = (e: GivenEvent, position: number, more: Record<string, unknown>) => ({
  _id: `evt-${position}`,
  ...(e.data as Record<string, unknown>),
  ...more,
  at: DEFAULT_AT,
  position: padPosition(BigInt(position)),
});

describe('quota decisions projection (given ledger events, then documents)', () => {
  it('given reservations on two quotas, then one live reservation document per reservation and quota', async () => {
    await projectionSpec(() => new QuotaDecisionsProjection())
      .given([reserved('r1', '4'), reserved('r1', '4', 'q2'), reserved('r2', '1')])
      .then({
        [RESERVATIONS]: [
          reservation('r1', '4', 1),
          reservation('r1', '4', 2, {}, 'q2'),
          reservation('r2', '1', 3),
        ],
        [REFUSALS]: [],
        [ALERTS]: [],
      });
  });

  it('given reservations settled, released and expired, then each is closed with its state and time, redelivery changing nothing', async () => {
    const later = '2026-01-15T10:10:00.000Z';
    await projectionSpec(() => new QuotaDecisionsProjection())
      .given([
        reserved('r1', '4'),
        reserved('r2', '2'),
        reserved('r3', '1'),
        ledger(
          'ReservationSettled',
          { reservationId: 'r1', estimate: '4', actual: '2.5', usageId: 'u1', usagePosition: '9' },
          later,
        ),
        ledger(
          'ReservationReleased',
          { reservationId: 'r2', amount: '2', reason: 'released by caller' },
          later,
        ),
        ledger('ReservationExpired', { reservationId: 'r3', amount: '1' }, later),
        // Not a decision: the projection does not see it.
        ledger('UsageCounted', {
          usageId: 'u2',
          usagePosition: '10',
          amount: '1',
          unconverted: null,
        }),
      ])
      .thenIdempotent({
        [RESERVATIONS]: [
          reservation('r1', '4', 4, { state: 'settled', closedAt: later }),
          reservation('r2', '2', 5, { state: 'released', closedAt: later }),
          reservation('r3', '1', 6, { state: 'expired', closedAt: later }),
        ],
      });
  });

  it('given a refused check, a warning and a breach, then one refusal with its actor and one alert each, once', async () => {
    const refused = ledger('QuotaCheckRefused', {
      reservationId: 'r9',
      requested: '5',
      used: '4',
      reserved: '2',
      ...figures,
      entityType: 'Team',
      entityId: 'team-1',
      requester,
    });
    const warning = ledger('QuotaWarningReached', { threshold: 80, used: '8', ...figures });
    const breach = ledger('QuotaBreached', { used: '11', ...figures });
    await projectionSpec(() => new QuotaDecisionsProjection())
      .given([refused, warning, breach])
      .thenIdempotent({
        [REFUSALS]: [decision(refused, 1, { actor: SYSTEM_ACTOR, correlationId: 'corr-1' })],
        [ALERTS]: [
          decision(warning, 2, { type: 'QuotaWarningReached' }),
          decision(breach, 3, { type: 'QuotaBreached' }),
        ],
        [RESERVATIONS]: [],
      });
  });
});
