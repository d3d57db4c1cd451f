import { DomainEvent } from '@purser/core';

export const ITEM_TYPES = ['Agent', 'Tool', 'Assistant', 'Prompt'] as const;
export type ItemType = (typeof ITEM_TYPES)[number];

/**
 * What an agent, tool, assistant or prompt call cost (the seed's ExpenditureRecord). The team path and the org's
 * time zone and base currency are stamped at record time, so reports follow the tree as it was when the usage
 * happened and replays give the same answers.
 */
export type UsageRecorded = DomainEvent<
  'UsageRecorded',
  {
    /** The client-chosen idempotency key. */
    usageId: string;
    orgId: string;
    userId: string;
    teamId: string | null;
    /** teamId first, then its ancestors up to the top-level team, as of record time. */
    teamPath: string[];
    itemType: ItemType;
    itemId: string;
    /** Canonical decimal string. */
    amount: string;
    currency: string;
    inputTokens: number | null;
    outputTokens: number | null;
    model: string | null;
    /** When the usage happened (business time, from the client). */
    occurredAt: string;
    reservationId: string | null;
    attributes: Record<string, string>;
    timeZone: string;
    baseCurrency: string;
  }
>;

/** An org sets how much one unit of `currency` is worth in its base currency, from an instant on. */
export type ExchangeRateSet = DomainEvent<
  'ExchangeRateSet',
  { orgId: string; currency: string; baseCurrency: string; rate: string; effectiveFrom: string }
>;

export type UsageEvent = UsageRecorded | ExchangeRateSet;
export const USAGE_EVENT_TYPES = [
  'UsageRecorded',
  'ExchangeRateSet',
] as const satisfies readonly UsageEvent['type'][];

export const UsageStreams = {
  /**
   * All usage of an org: the stream of every UsageRecorded, recorded once per (org, eventId) by the event store's
   * appendOnce (on EventStoreDB each record gets a stream of its own under this name, see the port).
   */
  orgUsage: (orgId: string) => `usage-${orgId}`,
  /** The former layout of a record (one stream per record), still read so that old records stay duplicates. */
  usage: (orgId: string, usageId: string) => `usage-${orgId}-${usageId}`,
  rates: (orgId: string) => `rates-${orgId}`,
} as const;
/**
 * Store-level event id of a usage record: scoped to its org ("/" is in neither an org id nor an eventId, and no
 * former id starts with "usage/"), stable on retries.
 */
export const usageEventId = (orgId: string, usageId: string) => `usage/${orgId}/${usageId}`;
/** The store-level event id usage records had before ids were scoped to their org. */
export const formerUsageEventId = (usageId: string) => `usage:${usageId}`;
