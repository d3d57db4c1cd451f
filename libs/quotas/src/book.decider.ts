import { ConflictError, Decider, NotFoundError, RuleViolationError } from '@purser/core';
import { QuotaBookEvent, QuotaDefinition } from './events';

export interface QuotaEntry extends QuotaDefinition {
  removed: boolean;
  createdAt: string | null;
  updatedAt: string | null;
  /** Per-quota revision (If-Match). */
  version: number;
}

export interface QuotaBookState {
  quotas: ReadonlyMap<string, QuotaEntry>;
}

export type QuotaBookCommand =
  | { type: 'DefineQuota'; definition: QuotaDefinition }
  | {
      type: 'ChangeQuota';
      quotaId: string;
      changes: Partial<Pick<QuotaDefinition, 'limit' | 'period' | 'enforcement' | 'thresholds'>>;
      expectedVersion?: number;
    }
  | { type: 'RemoveQuota'; quotaId: string; expectedVersion?: number };

type Stamped<E> = E & { metadata?: { occurredAt: string } };

const sameScope = (a: QuotaDefinition, b: QuotaDefinition) =>
  a.entityType === b.entityType &&
  a.entityId === b.entityId &&
  a.itemType === b.itemType &&
  a.itemId === b.itemId &&
  a.metric === b.metric &&
  a.period === b.period;

export function liveQuota(state: QuotaBookState, quotaId: string): QuotaEntry {
  const q = state.quotas.get(quotaId);
  if (!q || q.removed)
    throw new NotFoundError(`quota ${quotaId} not found`, [{ field: 'quotaId', problem: 'unknown' }]);
  return q;
}

function assertVersion(q: QuotaEntry, expected: number | undefined): void {
  if (expected !== undefined && expected !== q.version) {
    throw new ConflictError(`quota ${q.quotaId} is at revision ${q.version}, expected ${expected}`, [
      { field: 'revision', problem: 'stale', expected: String(expected), actual: String(q.version) },
    ]);
  }
}

/** An org's quota definitions. */
export const quotaBookDecider: Decider<QuotaBookCommand, QuotaBookState, Stamped<QuotaBookEvent>> = {
  initialState: () => ({ quotas: new Map() }),
  decide(c, state) {
    switch (c.type) {
      case 'DefineQuota': {
        const d = c.definition;
        if (state.quotas.has(d.quotaId))
          throw new ConflictError(`quota ${d.quotaId} already exists`, [
            { field: 'quotaId', problem: 'exists' },
          ]);
        const clash = [...state.quotas.values()].find((q) => !q.removed && sameScope(q, d));
        if (clash) {
          throw new ConflictError(
            `quota ${clash.quotaId} already limits ${d.metric} per ${d.period} for this ${d.entityType.toLowerCase()} and item; change it instead`,
            [{ field: 'entityId', problem: 'duplicate quota', quotaId: clash.quotaId }],
          );
        }
        return [{ type: 'QuotaDefined', data: d }];
      }
      case 'ChangeQuota': {
        const q = liveQuota(state, c.quotaId);
        assertVersion(q, c.expectedVersion);
        if ('metric' in c.changes)
          throw new RuleViolationError('a quota metric cannot change; remove it and define a new one');
        const changes = Object.fromEntries(
          Object.entries(c.changes).filter(
            ([k, v]) =>
              v !== undefined &&
              JSON.stringify(v) !== JSON.stringify((q as unknown as Record<string, unknown>)[k]),
          ),
        );
        if (!Object.keys(changes).length) return [];
        if (changes.period !== undefined) {
          const next = { ...q, ...changes } as QuotaDefinition;
          const clash = [...state.quotas.values()].find(
            (o) => !o.removed && o.quotaId !== q.quotaId && sameScope(o, next),
          );
          if (clash)
            throw new ConflictError(`quota ${clash.quotaId} already covers that period`, [
              { field: 'period', problem: 'duplicate quota' },
            ]);
        }
        return [{ type: 'QuotaChanged', data: { quotaId: q.quotaId, orgId: q.orgId, changes } }];
      }
      case 'RemoveQuota': {
        const q = liveQuota(state, c.quotaId);
        assertVersion(q, c.expectedVersion);
        return [{ type: 'QuotaRemoved', data: { quotaId: q.quotaId, orgId: q.orgId } }];
      }
    }
  },
  evolve(state, e) {
    const at = e.metadata?.occurredAt ?? null;
    const quotas = new Map(state.quotas);
    const cur = quotas.get(e.data.quotaId);
    switch (e.type) {
      case 'QuotaDefined':
        quotas.set(e.data.quotaId, { ...e.data, removed: false, createdAt: at, updatedAt: at, version: 0 });
        break;
      case 'QuotaChanged':
        if (cur)
          quotas.set(cur.quotaId, { ...cur, ...e.data.changes, updatedAt: at, version: cur.version + 1 });
        break;
      case 'QuotaRemoved':
        if (cur) quotas.set(cur.quotaId, { ...cur, removed: true, updatedAt: at, version: cur.version + 1 });
        break;
    }
    return { quotas };
  },
};

/** Does a quota cover this usage? Item scope: none = everything, itemType = that type, itemId = that item. */
export function applies(
  q: QuotaDefinition,
  u: { orgId: string; userId: string; teamPath: string[]; itemType: string; itemId: string },
): boolean {
  if (q.itemType !== null && q.itemType !== u.itemType) return false;
  if (q.itemId !== null && q.itemId !== u.itemId) return false;
  switch (q.entityType) {
    case 'Org':
      return q.entityId === u.orgId;
    case 'Team':
      return u.teamPath.includes(q.entityId);
    case 'User':
      return q.entityId === u.userId;
  }
}

const byEntity = new WeakMap<QuotaBookState, Map<string, QuotaEntry[]>>();

/**
 * The live quotas that cover a usage or a check, in quota id order. Looks up only the user, the teams on its path
 * and the org (an index built once per book state), instead of walking every quota of the org.
 */
export function covering(
  book: QuotaBookState,
  u: { orgId: string; userId: string; teamPath: string[]; itemType: string; itemId: string },
): QuotaEntry[] {
  let index = byEntity.get(book);
  if (!index) {
    index = new Map();
    for (const q of book.quotas.values()) {
      if (q.removed) continue;
      const key = `${q.entityType}:${q.entityId}`;
      index.set(key, [...(index.get(key) ?? []), q]);
    }
    byEntity.set(book, index);
  }
  const keys = [`Org:${u.orgId}`, `User:${u.userId}`, ...u.teamPath.map((t) => `Team:${t}`)];
  return keys
    .flatMap((k) => index.get(k) ?? [])
    .filter((q) => applies(q, u))
    .sort((a, b) => (a.quotaId < b.quotaId ? -1 : 1));
}
