import { SortSpec, ValidationError } from '@purser/core';
import { compareValues, getPath, invalid, isPlainObject, splitPath } from './values';

/* Sorting and page sizes, validated the same way by every adapter, and the in-memory order. */

export const DEFAULT_LIMIT = 100;
export const MAX_LIMIT = 10_000;

export interface SortKey {
  path: string;
  segs: string[];
  dir: 1 | -1;
}

/** Validates a sort and appends _id (ascending) as the final tie-breaker unless _id is already a key. */
export function compileSort(sort: SortSpec | undefined): SortKey[] {
  const keys: SortKey[] = [];
  if (sort !== undefined && sort !== null) {
    if (!isPlainObject(sort))
      throw new ValidationError('sort must be an object', [{ field: 'sort', problem: 'not an object' }]);
    for (const path in sort) {
      const dir = sort[path];
      if (dir !== 1 && dir !== -1) throw invalid('sort', path, 'direction must be 1 or -1');
      const segs = splitPath(path);
      keys.push({ path, segs, dir });
      if (path === '_id') return keys; // _id is unique: later keys could never matter
    }
  }
  keys.push({ path: '_id', segs: ['_id'], dir: 1 });
  return keys;
}

export function normalizeLimit(limit: number | undefined): number {
  if (limit === undefined || limit === null) return DEFAULT_LIMIT;
  if (!Number.isInteger(limit) || limit < 1 || limit > MAX_LIMIT) {
    throw new ValidationError(`limit must be an integer from 1 to ${MAX_LIMIT}`, [
      { field: 'limit', problem: 'out of range' },
    ]);
  }
  return limit;
}

/**
 * The values a document sorts by, one per key (missing fields as null). Objects and arrays are kept as they are:
 * they order after strings (MongoDB's order of types) and cannot make a cursor.
 */
export function sortValues(doc: unknown, keys: readonly SortKey[]): unknown[] {
  const out = new Array<unknown>(keys.length);
  for (let i = 0; i < keys.length; i++) {
    const v = getPath(doc, keys[i].segs);
    out[i] = v === undefined ? null : v;
  }
  return out;
}

/**
 * The in-memory order of two documents' sort values: null/missing < numbers < strings (binary) < objects < arrays
 * < booleans (MongoDB's order of types), key by key in each key's direction.
 */
export function compareSortValues(
  keys: readonly SortKey[],
  a: readonly unknown[],
  b: readonly unknown[],
): number {
  for (let i = 0; i < keys.length; i++) {
    const d = compareValues(a[i], b[i]);
    if (d !== 0) return keys[i].dir === 1 ? d : -d;
  }
  return 0;
}
