import { DomainEvent } from '@purser/core';

export type EntityType = 'Org' | 'Team' | 'User';
export type Metric = 'cost' | 'tokens' | 'requests';
export type QuotaPeriod = 'day' | 'week' | 'month' | 'none';
export type Enforcement = 'hard' | 'soft';

export interface QuotaDefinition {
  quotaId: string;
  orgId: string;
  entityType: EntityType;
  entityId: string;
  /** null: all item types. */
  itemType: string | null;
  /** null: all items (of itemType when set). */
  itemId: string | null;
  metric: Metric;
  /** cost quotas are in the org's base currency; null for tokens and requests */
  currency: string | null;
  /** decimal string (cost) or integer string (tokens, requests) */
  limit: string;
  period: QuotaPeriod;
  enforcement: Enforcement;
  /** warning thresholds in percent of the limit, ascending */
  thresholds: number[];
}

export type QuotaDefined = DomainEvent<'QuotaDefined', QuotaDefinition>;
export type QuotaChanged = DomainEvent<
  'QuotaChanged',
  {
    quotaId: string;
    orgId: string;
    changes: Partial<Pick<QuotaDefinition, 'limit' | 'period' | 'enforcement' | 'thresholds'>>;
  }
>;
export type QuotaRemoved = DomainEvent<'QuotaRemoved', { quotaId: string; orgId: string }>;
export type QuotaBookEvent = QuotaDefined | QuotaChanged | QuotaRemoved;

/** What asked for a reservation, kept for the audit of decisions. */
export interface Requester {
  userId: string;
  teamId: string | null;
  itemType: string;
  itemId: string;
}

/** Ledger events: one ledger stream per quota and period. Amounts are in the metric's unit as decimal strings. */
export type QuotaReserved = DomainEvent<
  'QuotaReserved',
  {
    quotaId: string;
    orgId: string;
    period: string;
    reservationId: string;
    amount: string;
    expiresAt: string;
    requester: Requester;
  }
>;
export type ReservationSettled = DomainEvent<
  'ReservationSettled',
  {
    quotaId: string;
    orgId: string;
    period: string;
    reservationId: string;
    estimate: string;
    actual: string;
    usageId: string;
    usagePosition: string;
  }
>;
export type ReservationReleased = DomainEvent<
  'ReservationReleased',
  { quotaId: string; orgId: string; period: string; reservationId: string; amount: string; reason: string }
>;
export type ReservationExpired = DomainEvent<
  'ReservationExpired',
  { quotaId: string; orgId: string; period: string; reservationId: string; amount: string }
>;
export type UsageCounted = DomainEvent<
  'UsageCounted',
  {
    quotaId: string;
    orgId: string;
    period: string;
    usageId: string;
    usagePosition: string;
    amount: string;
    unconverted: { amount: string; currency: string } | null;
  }
>;
export type QuotaWarningReached = DomainEvent<
  'QuotaWarningReached',
  {
    quotaId: string;
    orgId: string;
    period: string;
    threshold: number;
    used: string;
    limit: string;
    metric: Metric;
    currency: string | null;
  }
>;
export type QuotaBreached = DomainEvent<
  'QuotaBreached',
  {
    quotaId: string;
    orgId: string;
    period: string;
    used: string;
    limit: string;
    metric: Metric;
    currency: string | null;
  }
>;
export type QuotaCheckRefused = DomainEvent<
  'QuotaCheckRefused',
  {
    quotaId: string;
    orgId: string;
    period: string;
    reservationId: string;
    requested: string;
    used: string;
    reserved: string;
    limit: string;
    metric: Metric;
    currency: string | null;
    entityType: EntityType;
    entityId: string;
    requester: Requester;
  }
>;
export type LedgerEvent =
  | QuotaReserved
  | ReservationSettled
  | ReservationReleased
  | ReservationExpired
  | UsageCounted
  | QuotaWarningReached
  | QuotaBreached
  | QuotaCheckRefused;

export const QUOTA_EVENT_TYPES = [
  'QuotaDefined',
  'QuotaChanged',
  'QuotaRemoved',
  'QuotaReserved',
  'ReservationSettled',
  'ReservationReleased',
  'ReservationExpired',
  'UsageCounted',
  'QuotaWarningReached',
  'QuotaBreached',
  'QuotaCheckRefused',
] as const satisfies readonly (QuotaBookEvent | LedgerEvent)['type'][];

export const QuotaStreams = {
  /** Every quota of one org: so "which quotas apply" is one cached fold. */
  book: (orgId: string) => `quotas-${orgId}`,
  /** One quota in one period: the serialization point of its checks (optimistic concurrency on this stream). */
  ledger: (quotaId: string, period: string) => `quotaledger-${quotaId}-${period}`,
} as const;
export const LEDGER_PREFIX = 'quotaledger-';
