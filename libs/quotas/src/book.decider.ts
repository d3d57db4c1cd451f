import { ConflictError, Decider, NotFoundError, Refusal, RuleViolationError, refuse } from '@purser/core';
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

function quotaNotFound(quotaId: string): NotFoundError {
  return new NotFoundError(`quota ${quotaId} not found`, [{ field: 'quotaId', problem: 'unknown' }]);
}

/** The live quota, or the 404 (for handlers and views). */
export function liveQuota(state: QuotaBookState, quotaId: string): QuotaEntry {
  const q = state.quotas.get(quotaId);
  if (!q || q.removed) throw quotaNotFound(quotaId);
  return q;
}

/** The live quota at the expected revision (when one is given), or the refusal: 404 unknown, 409 stale. */
function liveAt(state: QuotaBookState, quotaId: string, expected: number | undefined): QuotaEntry | Refusal {
  const q = state.quotas.get(quotaId);
  if (!q || q.removed) return refuse(quotaNotFound(quotaId));
  if (expected !== undefined && expected !== q.version) {
    return refuse(
      new ConflictError(`quota ${q.quotaId} is at revision ${q.version}, expected ${expected}`, [
        { field: 'revision', problem: 'stale', expected: String(expected), actual: String(q.version) },
      ]),
    );
  }
  return q;
}

const refused = (q: QuotaEntry | Refusal): q is Refusal => 'refused' in q;

/** An org's quota definitions. */
export const quotaBookDecider: Decider<QuotaBookCommand, QuotaBookState, Stamped<QuotaBookEvent>> = {
  initialState: () => ({ quotas: new Map() }),
  decide(c, state) {
    switch (c.type) {
      case 'DefineQuota': {
        const d = c.definition;
        if (state.quotas.has(d.quotaId))
          return refuse(
            new ConflictError(`quota ${d.quotaId} already exists`, [{ field: 'quotaId', problem: 'exists' }]),
          );
        const clash = [...state.quotas.values()].find((q) => !q.removed && sameScope(q, d));
        if (clash) {
          return refuse(
            new ConflictError(
              `quota ${clash.quotaId} already limits ${d.metric} per ${d.period} for this ${d.entityType.toLowerCase()} and item; change it instead`,
              [{ field: 'entityId', problem: 'duplicate quota', quotaId: clash.quotaId }],
            ),
          );
        }
        return [{ type: 'QuotaDefined', data: d }];
      }
      case 'ChangeQuota': {
        const q = liveAt(state, c.quotaId, c.expectedVersion);
        if (refused(q)) return q;
        if ('metric' in c.changes)
          return refuse(
            new RuleViolationError('a quota metric cannot change; remove it and define a new one'),
          );
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
            return refuse(
              new ConflictError(`quota ${clash.quotaId} already covers that period`, [
                { field: 'period', problem: 'duplicate quota' },
              ]),
            );
        }
        return [{ type: 'QuotaChanged', data: { quotaId: q.quotaId, orgId: q.orgId, changes } }];
      }
      case 'RemoveQuota': {
        const q = liveAt(state, c.quotaId, c.expectedVersion);
        if (refused(q)) return q;
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
