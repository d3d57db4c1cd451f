import { instantMessage, isCurrency, parseDecimal, parseInstant } from '@purser/core';
import { ITEM_TYPES, ItemType } from './events';

/** One usage event as agents send it, over HTTP or Kafka (the same JSON). */
export interface UsageInput {
  eventId: string;
  orgId: string;
  userId: string;
  teamId?: string | null;
  itemType: ItemType;
  itemId: string;
  amount: string;
  currency: string;
  inputTokens?: number | null;
  outputTokens?: number | null;
  model?: string | null;
  occurredAt: string;
  reservationId?: string | null;
  attributes?: Record<string, string>;
}

const ID = /^[A-Za-z0-9_-]{1,64}$/;
const EVENT_ID = /^[A-Za-z0-9_.:-]{1,128}$/;
const ITEM_ID = /^[A-Za-z0-9_.:/@-]{1,128}$/;
const FIELDS = new Set([
  'eventId',
  'orgId',
  'userId',
  'teamId',
  'itemType',
  'itemId',
  'amount',
  'currency',
  'inputTokens',
  'outputTokens',
  'model',
  'occurredAt',
  'reservationId',
  'attributes',
]);
export const MAX_ATTRIBUTES = 16;

export type Checked =
  | { ok: true; value: UsageInput & { occurredAt: string; amount: string } }
  | { ok: false; reason: string; eventId?: string };

/**
 * Validates one usage event by hand (the hot path: class-validator is too slow for 25k events/s). Every problem
 * is named; the first one is the reason given back.
 */
export function checkUsage(raw: unknown, now: number): Checked {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw))
    return { ok: false, reason: 'event must be a JSON object' };
  const e = raw as Record<string, unknown>;
  const eventId = typeof e.eventId === 'string' && EVENT_ID.test(e.eventId) ? e.eventId : undefined;
  const fail = (reason: string): Checked => ({ ok: false, reason, eventId });
  for (const k of Object.keys(e)) if (!FIELDS.has(k)) return fail(`unknown field ${k}`);
  if (!eventId) return fail('eventId must be 1-128 characters of [A-Za-z0-9_.:-]');
  if (typeof e.orgId !== 'string' || !ID.test(e.orgId)) return fail('orgId must be an id');
  if (typeof e.userId !== 'string' || !ID.test(e.userId)) return fail('userId must be an id');
  if (e.teamId !== undefined && e.teamId !== null && (typeof e.teamId !== 'string' || !ID.test(e.teamId)))
    return fail('teamId must be an id');
  if (!ITEM_TYPES.includes(e.itemType as ItemType))
    return fail(`itemType must be one of ${ITEM_TYPES.join(', ')}`);
  if (typeof e.itemId !== 'string' || !ITEM_ID.test(e.itemId))
    return fail('itemId must be 1-128 characters of [A-Za-z0-9_.:/@-]');
  if (typeof e.amount !== 'string') return fail('amount must be a decimal string such as "0.0125"');
  const nanos = parseDecimal(e.amount);
  if (nanos === null)
    return fail('amount must be a decimal string with at most 18 integer and 9 fraction digits');
  if (nanos < 0n) return fail('amount must not be negative');
  if (!isCurrency(e.currency)) return fail('currency must be an ISO 4217 code such as USD');
  for (const k of ['inputTokens', 'outputTokens'] as const) {
    const v = e[k];
    if (v !== undefined && v !== null && (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 0)) {
      return fail(`${k} must be a non-negative integer`);
    }
  }
  if (
    e.model !== undefined &&
    e.model !== null &&
    (typeof e.model !== 'string' || e.model.length < 1 || e.model.length > 128)
  ) {
    return fail('model must be a string of 1-128 characters');
  }
  // Strict: 2026-02-30 is refused (not rolled over to March 2), and so are sub-millisecond digits (not cut).
  const occurredAt = parseInstant(e.occurredAt);
  if (!occurredAt.ok) return fail(instantMessage('occurredAt', occurredAt.problem));
  const at = occurredAt.ms;
  if (at > now + 5 * 60_000) return fail('occurredAt is more than 5 minutes in the future');
  if (at < Date.UTC(2000, 0, 1)) return fail('occurredAt is before 2000-01-01');
  if (
    e.reservationId !== undefined &&
    e.reservationId !== null &&
    (typeof e.reservationId !== 'string' || !ID.test(e.reservationId))
  ) {
    return fail('reservationId must be an id');
  }
  if (e.attributes !== undefined) {
    const a = e.attributes;
    if (typeof a !== 'object' || a === null || Array.isArray(a))
      return fail('attributes must be an object of strings');
    const entries = Object.entries(a);
    if (entries.length > MAX_ATTRIBUTES) return fail(`attributes may hold at most ${MAX_ATTRIBUTES} keys`);
    for (const [k, v] of entries) {
      if (!/^[A-Za-z0-9_.-]{1,64}$/.test(k))
        return fail(
          `attribute key ${JSON.stringify(k.slice(0, 70))} must be 1-64 characters of [A-Za-z0-9_.-]`,
        );
      if (typeof v !== 'string' || v.length > 256)
        return fail(`attribute ${k} must be a string of at most 256 characters`);
    }
  }
  return {
    ok: true,
    value: { ...(e as unknown as UsageInput), occurredAt: occurredAt.iso },
  };
}
