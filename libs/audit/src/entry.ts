import { createHash } from 'node:crypto';
import { Actor, RecordedEvent, canonicalJson, padPosition } from '@purser/core';

/** The entity an event concerns: its stream id's prefix without the dash is its type (`access-policy-` is tried first). */
const PREFIXES = [
  'access-policy-',
  'quotaledger-',
  'credential-',
  'session-',
  'apikey-',
  'quotas-',
  'teams-',
  'rates-',
  'usage-',
  'user-',
  'org-',
] as const;

/** The fields dropped from what the audit stores and exports (the access events hold digests and hashes of secrets). */
export const REDACTED_FIELDS: ReadonlySet<string> = new Set([
  'hash',
  'sealedSecret',
  'secretDigest',
  'tokenDigest',
  'refreshDigest',
  'recoveryCodeDigests',
]);
export const REDACTED = '[redacted]';
export const ZERO_HASH = '0'.repeat(64);

export interface AuditEntity {
  entityType: string;
  entityId: string;
}

/**
 * `org-<id>` → org <id>, `credential-<userId>` → credential <userId>, ... A stream that names more than its entity
 * (`usage-<orgId>-<usageId>`, `quotaledger-<quotaId>-<period>`) is resolved by the id its event carries.
 */
export function entityOf(streamId: string, data: unknown): AuditEntity {
  const d = (data && typeof data === 'object' ? data : {}) as Record<string, unknown>;
  for (const prefix of PREFIXES) {
    if (!streamId.startsWith(prefix)) continue;
    const entityType = prefix.slice(0, -1);
    const rest = streamId.slice(prefix.length);
    if (entityType === 'usage' && typeof d.usageId === 'string') return { entityType, entityId: d.usageId };
    if (entityType === 'quotaledger' && typeof d.quotaId === 'string')
      return { entityType, entityId: d.quotaId };
    return { entityType, entityId: rest };
  }
  const dash = streamId.indexOf('-');
  return dash > 0
    ? { entityType: streamId.slice(0, dash), entityId: streamId.slice(dash + 1) }
    : { entityType: streamId, entityId: streamId };
}

/** A copy of the data with every secret-bearing field (at any depth) replaced by "[redacted]". */
export function redact(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(redact);
  if (!value || typeof value !== 'object') return value;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) out[k] = REDACTED_FIELDS.has(k) ? REDACTED : redact(v);
  return out;
}

/** What an entry says, as hashed: everything but its hash. */
export interface AuditFacts {
  eventId: string;
  org: string;
  seq: number;
  position: string;
  occurredAt: string;
  type: string;
  streamId: string;
  actor: { type: Actor['type']; id: string };
  correlationId: string;
  entityType: string;
  entityId: string;
  data: unknown;
}

/** An entry of the chain: its facts, the hash of the entry before it in its org (or 64 zeros) and its own hash. */
export interface AuditEntry extends AuditFacts {
  prevHash: string;
  hash: string;
}

export function factsOf(e: RecordedEvent, org: string, seq: number): AuditFacts {
  return {
    eventId: e.metadata.eventId,
    org,
    seq,
    position: padPosition(e.position),
    occurredAt: e.metadata.occurredAt,
    type: e.type,
    streamId: e.streamId,
    actor: { type: e.metadata.actor.type, id: e.metadata.actor.id },
    correlationId: e.metadata.correlationId,
    ...entityOf(e.streamId, e.data),
    data: redact(e.data),
  };
}

/** The canonical facts of an entry: its named fields only (prevHash and hash excluded), so extra fields cannot hide. */
export function canonicalFacts(e: AuditFacts): string {
  return canonicalJson({
    eventId: e.eventId,
    org: e.org,
    seq: e.seq,
    position: e.position,
    occurredAt: e.occurredAt,
    type: e.type,
    streamId: e.streamId,
    actor: e.actor,
    correlationId: e.correlationId,
    entityType: e.entityType,
    entityId: e.entityId,
    data: e.data,
  });
}

/** sha256 hex of (the previous entry's hash, or 64 zeros) + the entry's canonical JSON. */
export function chainHash(prevHash: string, facts: AuditFacts): string {
  return createHash('sha256')
    .update(prevHash + canonicalFacts(facts))
    .digest('hex');
}
