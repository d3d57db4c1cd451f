import { Decider, LimitExceededError, formatNanos, toNanos } from '@purser/core';
import { LedgerEvent, Metric, QuotaDefinition, Requester } from './events';

export interface Reservation {
  amount: bigint;
  expiresAt: string;
}

/** One quota in one period: what was used, what is held, what was already announced. */
export interface LedgerState {
  used: bigint;
  reservations: ReadonlyMap<string, Reservation>;
  warned: ReadonlySet<number>;
  breached: boolean;
  /** Global position of the last usage counted here: usage is counted in position order, so this dedupes redeliveries. */
  lastUsagePosition: bigint;
}

interface QuotaTerms {
  quota: QuotaDefinition;
  period: string;
}

export type LedgerCommand =
  | (QuotaTerms & {
      type: 'Reserve';
      reservationId: string;
      amount: bigint;
      now: string;
      expiresAt: string;
      requester: Requester;
    })
  | (QuotaTerms & {
      type: 'Count';
      usageId: string;
      usagePosition: bigint;
      amount: bigint;
      reservationId: string | null;
      unconverted: { amount: string; currency: string } | null;
    })
  | (QuotaTerms & { type: 'Release'; reservationId: string; reason: string })
  | (QuotaTerms & { type: 'Expire'; reservationId: string; now: string })
  | (QuotaTerms & {
      type: 'RecordRefusal';
      reservationId: string;
      requested: bigint;
      now: string;
      requester: Requester;
    });

/** The live reservations' total at an instant (expired ones hold nothing, even before their expiry is recorded). */
export function reservedAt(state: LedgerState, now: string): bigint {
  let sum = 0n;
  for (const r of state.reservations.values()) if (r.expiresAt > now) sum += r.amount;
  return sum;
}

/** Raised when a hard quota refuses a reservation; carries the figures for the answer and the audit. */
export class QuotaRefusal extends LimitExceededError {
  constructor(
    readonly quota: QuotaDefinition,
    readonly period: string,
    readonly requested: bigint,
    readonly used: bigint,
    readonly reserved: bigint,
  ) {
    super(
      `quota ${quota.quotaId} (${quota.entityType} ${quota.entityId}, ${describe(quota)}) refuses ${fmt(requested, quota.metric, quota.currency)}: ` +
        `${fmt(used, quota.metric, quota.currency)} used and ${fmt(reserved, quota.metric, quota.currency)} reserved of ${fmt(toNanos(quota.limit), quota.metric, quota.currency)} this ${quota.period === 'none' ? 'lifetime' : quota.period}`,
      [{ field: 'estimate', problem: 'over quota', quotaId: quota.quotaId }],
    );
  }
}

export function describe(q: QuotaDefinition): string {
  const item = q.itemId ? `${q.itemType} ${q.itemId}` : q.itemType ? `every ${q.itemType}` : 'all items';
  return `${q.metric} on ${item}, ${q.enforcement}`;
}

export function fmt(nanos: bigint, metric: Metric, currency: string | null): string {
  return metric === 'cost' ? `${formatNanos(nanos)} ${currency}` : `${formatNanos(nanos)} ${metric}`;
}

const base = (c: QuotaTerms) => ({ quotaId: c.quota.quotaId, orgId: c.quota.orgId, period: c.period });

/** Warnings (once per threshold) and the breach (once) that `used` has now reached in this period. */
function announcements(c: QuotaTerms, state: LedgerState, used: bigint): LedgerEvent[] {
  const limit = toNanos(c.quota.limit);
  const out: LedgerEvent[] = [];
  const common = {
    ...base(c),
    used: formatNanos(used),
    limit: c.quota.limit,
    metric: c.quota.metric,
    currency: c.quota.currency,
  };
  for (const t of c.quota.thresholds) {
    if (!state.warned.has(t) && used * 100n >= limit * BigInt(t))
      out.push({ type: 'QuotaWarningReached', data: { ...common, threshold: t } });
  }
  if (!state.breached && used > limit) out.push({ type: 'QuotaBreached', data: common });
  return out;
}

export const ledgerDecider: Decider<LedgerCommand, LedgerState, LedgerEvent> = {
  initialState: {
    used: 0n,
    reservations: new Map(),
    warned: new Set(),
    breached: false,
    lastUsagePosition: -1n,
  },
  decide(c, state) {
    switch (c.type) {
      case 'Reserve': {
        const reserved = reservedAt(state, c.now);
        if (c.quota.enforcement === 'hard' && state.used + reserved + c.amount > toNanos(c.quota.limit)) {
          throw new QuotaRefusal(c.quota, c.period, c.amount, state.used, reserved);
        }
        return [
          {
            type: 'QuotaReserved',
            data: {
              ...base(c),
              reservationId: c.reservationId,
              amount: formatNanos(c.amount),
              expiresAt: c.expiresAt,
              requester: c.requester,
            },
          },
        ];
      }
      case 'Count': {
        if (c.usagePosition <= state.lastUsagePosition) return [];
        const held = c.reservationId ? state.reservations.get(c.reservationId) : undefined;
        const used = state.used + c.amount;
        const counted: LedgerEvent = held
          ? {
              type: 'ReservationSettled',
              data: {
                ...base(c),
                reservationId: c.reservationId!,
                estimate: formatNanos(held.amount),
                actual: formatNanos(c.amount),
                usageId: c.usageId,
                usagePosition: c.usagePosition.toString(),
              },
            }
          : {
              type: 'UsageCounted',
              data: {
                ...base(c),
                usageId: c.usageId,
                usagePosition: c.usagePosition.toString(),
                amount: formatNanos(c.amount),
                unconverted: c.unconverted,
              },
            };
        return [counted, ...announcements(c, state, used)];
      }
      case 'Release': {
        const held = state.reservations.get(c.reservationId);
        if (!held) return [];
        return [
          {
            type: 'ReservationReleased',
            data: {
              ...base(c),
              reservationId: c.reservationId,
              amount: formatNanos(held.amount),
              reason: c.reason,
            },
          },
        ];
      }
      case 'Expire': {
        const held = state.reservations.get(c.reservationId);
        if (!held || held.expiresAt > c.now) return [];
        return [
          {
            type: 'ReservationExpired',
            data: { ...base(c), reservationId: c.reservationId, amount: formatNanos(held.amount) },
          },
        ];
      }
      case 'RecordRefusal':
        return [
          {
            type: 'QuotaCheckRefused',
            data: {
              ...base(c),
              reservationId: c.reservationId,
              requested: formatNanos(c.requested),
              used: formatNanos(state.used),
              reserved: formatNanos(reservedAt(state, c.now)),
              limit: c.quota.limit,
              metric: c.quota.metric,
              currency: c.quota.currency,
              entityType: c.quota.entityType,
              entityId: c.quota.entityId,
              requester: c.requester,
            },
          },
        ];
    }
  },
  evolve(state, e) {
    switch (e.type) {
      case 'QuotaReserved': {
        const reservations = new Map(state.reservations);
        reservations.set(e.data.reservationId, {
          amount: toNanos(e.data.amount),
          expiresAt: e.data.expiresAt,
        });
        return { ...state, reservations };
      }
      case 'ReservationSettled':
      case 'ReservationReleased':
      case 'ReservationExpired': {
        const reservations = new Map(state.reservations);
        reservations.delete(e.data.reservationId);
        return e.type === 'ReservationSettled'
          ? {
              ...state,
              reservations,
              used: state.used + toNanos(e.data.actual),
              lastUsagePosition: BigInt(e.data.usagePosition),
            }
          : { ...state, reservations };
      }
      case 'UsageCounted':
        return {
          ...state,
          used: state.used + toNanos(e.data.amount),
          lastUsagePosition: BigInt(e.data.usagePosition),
        };
      case 'QuotaWarningReached':
        return { ...state, warned: new Set([...state.warned, e.data.threshold]) };
      case 'QuotaBreached':
        return { ...state, breached: true };
      case 'QuotaCheckRefused':
        return state;
    }
  },
};
