import { Filter, FieldCondition, ReadStore, instantOrThrow } from '@purser/core';
import { AUDIT_ENTRIES, AuditEntryDoc } from './projection';
import { AuditEntry } from './entry';

export interface AuditFilter {
  actor?: string;
  entityType?: string;
  entityId?: string;
  type?: string;
  from?: string;
  to?: string;
}

/** The read-store filter of a query (from/to checked as strict instants: a 400 names the field). */
export function auditFilter(org: string, q: AuditFilter, afterSeq: number): Filter {
  const f: Filter = { org, seq: { $gt: afterSeq } };
  if (q.actor) {
    const i = q.actor.indexOf(':');
    const kind = i > 0 ? q.actor.slice(0, i) : '';
    if (['user', 'apiKey', 'system'].includes(kind)) {
      f['actor.type'] = kind;
      f['actor.id'] = q.actor.slice(i + 1);
    } else f['actor.id'] = q.actor;
  }
  if (q.entityType) f.entityType = q.entityType;
  if (q.entityId) f.entityId = q.entityId;
  if (q.type) {
    const types = q.type.split(',').filter(Boolean);
    f.type = types.length === 1 ? types[0] : { $in: types };
  }
  const at: FieldCondition = {};
  if (q.from !== undefined) at.$gte = instantOrThrow(q.from, 'from');
  if (q.to !== undefined) at.$lt = instantOrThrow(q.to, 'to');
  if (Object.keys(at).length) f.occurredAt = at;
  return f;
}

/** An entry as the API answers it (no store fields). */
export function entryView(d: AuditEntryDoc): AuditEntry {
  return {
    seq: d.seq,
    eventId: d.eventId,
    org: d.org,
    position: d.position,
    occurredAt: d.occurredAt,
    type: d.type,
    streamId: d.streamId,
    actor: { type: d.actor.type, id: d.actor.id },
    correlationId: d.correlationId,
    entityType: d.entityType,
    entityId: d.entityId,
    data: d.data,
    prevHash: d.prevHash,
    hash: d.hash,
  };
}

export class AuditQueries {
  constructor(private readonly store: ReadStore) {}

  /** One page in seq order after the cursor; nextCursor is the page last seq while more may follow. */
  async page(
    org: string,
    q: AuditFilter,
    after: number,
    limit: number,
  ): Promise<{ items: AuditEntry[]; nextCursor: string | null }> {
    const found = await this.store.find<AuditEntryDoc>(AUDIT_ENTRIES, auditFilter(org, q, after), {
      sort: { seq: 1 },
      limit: limit + 1,
    });
    const items = found.items.slice(0, limit).map(entryView);
    const more = found.items.length > limit;
    return { items, nextCursor: more ? String(items[items.length - 1].seq) : null };
  }

  /** Every matching entry after the cursor, in seq order, a page at a time (exports). */
  async *scan(org: string, q: AuditFilter, after = 0, pageSize = 1_000): AsyncGenerator<AuditEntry> {
    auditFilter(org, q, after); // bad from/to throw before anything is sent
    for (let cursor = after; ;) {
      const page = await this.page(org, q, cursor, pageSize);
      for (const e of page.items) yield e;
      if (!page.nextCursor) return;
      cursor = Number(page.nextCursor);
    }
  }
}
