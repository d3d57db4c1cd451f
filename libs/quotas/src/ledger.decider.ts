import { Decider, LimitExceededError, StaleStateError, formatNanos, refuse, toNanos } from '@purser/core';
import { LedgerEvent, Metric, QuotaDefinition, Requester } from './events';

export interface Reservation {
  amount: bigint;
  expiresAt: string;
}

/**
 * The reservations held on one ledger. A hot ledger (an org-wide quota) can hold hundreds of thousands of live
 * reservations, so folding must not copy them per event: the book is updated in place and handed from each state to
 * the next. A state whose book has since moved on is stale; deciding on it throws StaleStateError and the command
 * is retried on a fresh state, exactly like a version conflict. Totals are kept incrementally, and expired entries
 * are found from an expiry queue, so a decision costs O(expired since the last sweep), not O(held).
 */
export class ReservationBook {
  private readonly live = new Map<string, Reservation>();
  private queue: Array<{ id: string; expiresAt: string }> = [];
  private head = 0;
  private total = 0n;
  version = 0;

  get(id: string): Reservation | undefined {
    return this.live.get(id);
  }

  add(id: string, r: Reservation): void {
    const prev = this.live.get(id);
    if (prev) this.total -= prev.amount;
    this.live.set(id, r);
    this.total += r.amount;
    // Keep the queue ordered by expiry: usually an append (the TTL is constant), else a binary-searched insert.
    const q = this.queue;
    if (q.length === this.head || q[q.length - 1].expiresAt <= r.expiresAt)
      q.push({ id, expiresAt: r.expiresAt });
    else {
      let lo = this.head;
      let hi = q.length;
      while (lo < hi) {
        const mid = (lo + hi) >>> 1;
        if (q[mid].expiresAt <= r.expiresAt) lo = mid + 1;
        else hi = mid;
      }
      q.splice(lo, 0, { id, expiresAt: r.expiresAt });
    }
  }

  remove(id: string): void {
    const r = this.live.get(id);
    if (!r) return;
    this.live.delete(id);
    this.total -= r.amount;
    while (
      this.head < this.queue.length &&
      this.live.get(this.queue[this.head].id)?.expiresAt !== this.queue[this.head].expiresAt
    )
      this.head++;
    if (this.head > 1024 && this.head * 2 > this.queue.length) {
      this.queue = this.queue.slice(this.head);
      this.head = 0;
    }
  }

  /** What the live (not yet expired at `now`) reservations hold. */
  heldAt(now: string): bigint {
    let expired = 0n;
    for (let i = this.head; i < this.queue.length && this.queue[i].expiresAt <= now; i++) {
      const r = this.live.get(this.queue[i].id);
      if (r && r.expiresAt === this.queue[i].expiresAt) expired += r.amount;
    }
    return this.total - expired;
  }

  get size(): number {
    return this.live.size;
  }
}

/** One quota in one period: what was used, what is held, what was already announced. */
export interface LedgerState {
  used: bigint;
  /** null before the first reservation; owned by the newest state only (see ReservationBook). */
  book: ReservationBook | null;
  bookVersion: number;
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
  return current(state)?.heldAt(now) ?? 0n;
}

/** The state's book, refusing a state that a newer fold has superseded. */
function current(state: LedgerState): ReservationBook | null {
  if (state.book && state.book.version !== state.bookVersion)
    throw new StaleStateError('ledger state superseded by a newer fold');
  return state.book;
}

function held(state: LedgerState, id: string): Reservation | undefined {
  return current(state)?.get(id);
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
  initialState: () => ({
    used: 0n,
    book: null,
    bookVersion: 0,
    warned: new Set(),
    breached: false,
    lastUsagePosition: -1n,
  }),
  decide(c, state) {
    switch (c.type) {
      case 'Reserve': {
        const reserved = reservedAt(state, c.now);
        if (c.quota.enforcement === 'hard' && state.used + reserved + c.amount > toNanos(c.quota.limit)) {
          return refuse(new QuotaRefusal(c.quota, c.period, c.amount, state.used, reserved));
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
        const heldRes = c.reservationId ? held(state, c.reservationId) : undefined;
        const used = state.used + c.amount;
        const counted: LedgerEvent = heldRes
          ? {
              type: 'ReservationSettled',
              data: {
                ...base(c),
                reservationId: c.reservationId!,
                estimate: formatNanos(heldRes.amount),
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
        const r = held(state, c.reservationId);
        if (!r) return [];
        return [
          {
            type: 'ReservationReleased',
            data: {
              ...base(c),
              reservationId: c.reservationId,
              amount: formatNanos(r.amount),
              reason: c.reason,
            },
          },
        ];
      }
      case 'Expire': {
        const r = held(state, c.reservationId);
        if (!r || r.expiresAt > c.now) return [];
        return [
          {
            type: 'ReservationExpired',
            data: { ...base(c), reservationId: c.reservationId, amount: formatNanos(r.amount) },
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
      case 'QuotaReserved':
      case 'ReservationSettled':
      case 'ReservationReleased':
      case 'ReservationExpired': {
        // Hand the book over to the new state (see ReservationBook); the previous state becomes stale.
        const book = state.book ?? new ReservationBook();
        if (state.book && book.version !== state.bookVersion)
          throw new StaleStateError('ledger state superseded by a newer fold');
        if (e.type === 'QuotaReserved')
          book.add(e.data.reservationId, { amount: toNanos(e.data.amount), expiresAt: e.data.expiresAt });
        else book.remove(e.data.reservationId);
        book.version++;
        const next = { ...state, book, bookVersion: book.version };
        return e.type === 'ReservationSettled'
          ? {
              ...next,
              used: state.used + toNanos(e.data.actual),
              lastUsagePosition: BigInt(e.data.usagePosition),
            }
          : next;
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
