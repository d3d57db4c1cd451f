import {
  CollectionSpec,
  Document,
  Projection,
  ReadStore,
  RecordedEvent,
  UpdateOp,
  padPosition,
  positionGuard,
} from '@purser/core';
import { AuditEntry, ZERO_HASH, chainHash, factsOf } from './entry';

export const AUDIT_PROJECTION = 'audit';
export const AUDIT_ENTRIES = 'audit_entries';
export const AUDIT_HEADS = 'audit_heads';

/** The end of an org's chain: its last seq and hash, and the position of the event they came from. */
export interface AuditHeadDoc {
  _id: string;
  seq: number;
  hash: string;
  _pos: string;
}

interface Head {
  seq: number;
  hash: string;
  pos: bigint;
}

export type AuditEntryDoc = AuditEntry & { _id: string };

/**
 * The audit trail: one entry per event of an org (every event whose metadata names one), chained per org. Each
 * entry's seq follows the org's last one and its hash covers the previous hash and its own facts, so an altered,
 * removed or reordered entry breaks the chain. Entries are inserted by eventId (a redelivered one is skipped) and the
 * head of each org is updated under a position guard (an event at or before the head is already in the chain), so
 * redeliveries and restarts change nothing and a replay from zero builds the same chain. One insertMany and one
 * bulkUpdate per batch, whatever its size (usage events are many).
 */
export class AuditProjection implements Projection {
  readonly name = AUDIT_PROJECTION;
  readonly collections: CollectionSpec[] = [
    {
      name: AUDIT_ENTRIES,
      indexes: [
        { fields: { org: 1, seq: 1 } },
        { fields: { org: 1, type: 1, seq: 1 } },
        { fields: { org: 1, entityId: 1, seq: 1 } },
        { fields: { org: 1, 'actor.id': 1, seq: 1 } },
      ],
    },
    { name: AUDIT_HEADS, arrays: [] },
  ];
  /** The heads this instance has read or written (the store never runs behind them between batches). */
  private heads = new Map<string, Head>();

  reset(): void {
    this.heads.clear();
  }

  async handle(events: RecordedEvent[], store: ReadStore): Promise<void> {
    const ofOrgs = events.filter((e) => e.metadata.orgId);
    if (!ofOrgs.length) return;
    await this.loadHeads(
      store,
      ofOrgs.map((e) => e.metadata.orgId!),
    );
    const entries: Document[] = [];
    const moved = new Set<string>();
    for (const e of ofOrgs) {
      const org = e.metadata.orgId!;
      const head = this.heads.get(org)!;
      // Already in the chain (a redelivery): nothing changes.
      if (e.position <= head.pos) continue;
      const facts = factsOf(e, org, head.seq + 1);
      const hash = chainHash(head.hash, facts);
      const entry: AuditEntryDoc = { _id: facts.eventId, ...facts, prevHash: head.hash, hash };
      entries.push(entry);
      this.heads.set(org, { seq: facts.seq, hash, pos: e.position });
      moved.add(org);
    }
    if (!entries.length) return;
    // Entries first, then the heads: a failure in between redelivers the batch, which recomputes the same entries.
    await store.insertMany(AUDIT_ENTRIES, entries);
    const ops: UpdateOp[] = [...moved].map((org) => {
      const h = this.heads.get(org)!;
      return {
        id: org,
        update: { $set: { seq: h.seq, hash: h.hash, _pos: padPosition(h.pos) } },
        options: { upsert: true, guard: positionGuard(h.pos) },
      };
    });
    await store.bulkUpdate(AUDIT_HEADS, ops);
  }

  private async loadHeads(store: ReadStore, orgs: string[]): Promise<void> {
    const unknown = [...new Set(orgs)].filter((o) => !this.heads.has(o));
    if (!unknown.length) return;
    const docs = await store.getMany<AuditHeadDoc>(AUDIT_HEADS, unknown);
    for (const d of docs) this.heads.set(d._id, { seq: d.seq, hash: d.hash, pos: BigInt(d._pos) });
    for (const o of unknown) if (!this.heads.has(o)) this.heads.set(o, { seq: 0, hash: ZERO_HASH, pos: -1n });
  }
}
