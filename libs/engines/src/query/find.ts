import { Document, Filter, FindOptions, Page, Scalar } from '@purser/core';
import { CompiledField, compileFilter } from './filter';
import { SortKey, compileSort, normalizeLimit } from './sort';
import { decodeCursor } from './cursor';

/** A find's arguments, validated: the filter, the sort keys (ending with _id), the page size and the cursor's values. */
export interface CompiledFind {
  filter: CompiledField[];
  keys: SortKey[];
  limit: number;
  after: Scalar[] | null;
}

export function compileFind(filter: Filter, options: FindOptions): CompiledFind {
  const compiled = compileFilter(filter);
  const keys = compileSort(options.sort);
  const limit = normalizeLimit(options.limit);
  const after = options.cursor ? decodeCursor(options.cursor, keys) : null;
  return { filter: compiled, keys, limit, after };
}

/**
 * A find's page from the rows read in order, at most limit + 1 of them: the first `limit` as items, and a cursor
 * after the last of those when there was one more.
 */
export function pageOf<R, T>(
  rows: R[],
  limit: number,
  item: (row: R) => T,
  cursorOf: (last: R) => string,
): Page<T> {
  const more = rows.length > limit;
  if (more) rows.length = limit;
  return { items: rows.map(item), nextCursor: more ? cursorOf(rows[rows.length - 1]) : null };
}

/** getMany's answer: the documents found, in the order of `ids`, each once (a repeated or unknown id adds none). */
export function inOrderOfIds<T>(ids: readonly string[], found: (id: string) => T | undefined): T[] {
  const out: T[] = [];
  const seen = new Set<string>();
  for (const id of ids) {
    if (seen.has(id)) continue;
    const doc = found(id);
    if (doc === undefined) continue;
    seen.add(id);
    out.push(doc);
  }
  return out;
}

/** inOrderOfIds over the documents one query found (in any order). */
export function inOrderOfFound<T extends Document>(ids: readonly string[], found: Iterable<T>): T[] {
  const byId = new Map<string, T>();
  for (const doc of found) byId.set(doc._id, doc);
  return inOrderOfIds(ids, (id) => byId.get(id));
}
