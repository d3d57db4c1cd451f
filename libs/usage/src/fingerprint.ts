import { createHash } from 'node:crypto';
import { canonicalDecimal, canonicalJson } from '@purser/core';
import { UsageRecorded } from './events';

/**
 * The fingerprint of a usage record: sha256 (hex) of the canonical JSON of its business payload, i.e. what the
 * client sent, as recorded (eventId, org, user, team, item, amount, currency, tokens, model, occurredAt,
 * reservation, attributes). What the server stamps from its own state (team path, time zone, base currency) is left
 * out. Computed from the recorded data, so it is the same for a new record and for one stored before fingerprints
 * (whose data has the same fields). The team is the one recorded: a retry that names none is booked to the user's
 * primary team as it is then. Amounts and instants are compared in their canonical forms ("1.50" is "1.5", and
 * "2025-06-01T08:00:00Z" is "2025-06-01T08:00:00.000Z"), as the command side records them.
 */
export function usageFingerprint(d: UsageRecorded['data']): string {
  const payload = {
    usageId: d.usageId,
    orgId: d.orgId,
    userId: d.userId,
    teamId: d.teamId ?? null,
    itemType: d.itemType,
    itemId: d.itemId,
    amount: canonical(() => canonicalDecimal(d.amount), d.amount),
    currency: d.currency,
    inputTokens: d.inputTokens ?? null,
    outputTokens: d.outputTokens ?? null,
    model: d.model ?? null,
    occurredAt: canonical(() => new Date(d.occurredAt).toISOString(), d.occurredAt),
    reservationId: d.reservationId ?? null,
    attributes: d.attributes ?? {},
  };
  return createHash('sha256').update(canonicalJson(payload)).digest('hex');
}

/** A value in its canonical form, or as it is when it has none (a stored record is fingerprinted, never refused). */
function canonical(form: () => string, raw: string): string {
  try {
    return form();
  } catch {
    return raw;
  }
}
