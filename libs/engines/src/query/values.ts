import { Scalar, ValidationError } from '@purser/core';

/*
 * Engine-neutral building blocks of the read-store port's query language: field paths, values and their order.
 * Every adapter (SQLite, MongoDB, in-memory) validates through these, so they accept and refuse exactly the same
 * inputs. Not part of the public API of @purser/engines.
 */

/** One segment of a dotted field path: letters, digits, `_` and `-` (never `$`, `.`, quotes or spaces). */
const PATH_SEGMENT = /^[\p{L}\p{N}_-]+$/u;

const pathCache = new Map<string, string[]>();

/** Splits and validates a dotted field path (cached: projections use the same few paths millions of times). */
export function splitPath(path: string): string[] {
  const cached = pathCache.get(path);
  if (cached) return cached;
  if (typeof path !== 'string' || path.length === 0 || path.length > 512) {
    throw new ValidationError(`invalid field path ${JSON.stringify(path)}`, [
      { field: String(path), problem: 'invalid path' },
    ]);
  }
  const segs = path.split('.');
  for (const s of segs) {
    if (!PATH_SEGMENT.test(s) || s === '__proto__') {
      throw new ValidationError(`invalid field path ${JSON.stringify(path)}`, [
        { field: path, problem: 'segments may hold letters, digits, _ and - only' },
      ]);
    }
  }
  if (pathCache.size >= 10_000) pathCache.clear();
  pathCache.set(path, segs);
  return segs;
}

export const hasOwn = Object.prototype.hasOwnProperty;

export function isPlainObject(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

export function isScalar(v: unknown): v is Scalar {
  return (
    v === null ||
    typeof v === 'string' ||
    typeof v === 'boolean' ||
    (typeof v === 'number' && Number.isFinite(v))
  );
}

/** The value at a dotted path, or undefined when missing. Paths do not traverse arrays. */
export function getPath(doc: unknown, segs: readonly string[]): unknown {
  let cur: any = doc;
  for (let i = 0; i < segs.length; i++) {
    if (cur === null || typeof cur !== 'object' || Array.isArray(cur) || !hasOwn.call(cur, segs[i]))
      return undefined;
    cur = cur[segs[i]];
  }
  return cur;
}

/**
 * Strings compare in binary (Unicode code point) order, which is UTF-8 byte order: the order of SQLite's BINARY
 * collation and of MongoDB's default ("simple") collation. JS `<` compares UTF-16 code units, which differs for
 * characters above U+FFFF, hence this function.
 */
export function compareStrings(a: string, b: string): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    let x = a.charCodeAt(i);
    let y = b.charCodeAt(i);
    if (x === y) continue;
    // Surrogates (D800-DFFF) encode code points above FFFF: move them above E000-FFFF.
    if (x >= 0xd800) x = x >= 0xe000 ? x - 0x800 : x + 0x2000;
    if (y >= 0xd800) y = y >= 0xe000 ? y - 0x800 : y + 0x2000;
    return x < y ? -1 : 1;
  }
  return a.length - b.length;
}

export function compareSameType(a: string | number | boolean, b: string | number | boolean): number {
  if (typeof a === 'string') return compareStrings(a, b as string);
  if (typeof a === 'number') return a - (b as number);
  return (a ? 1 : 0) - (b ? 1 : 0);
}

/** MongoDB's order of types for $max/$min: null < numbers < strings < objects < arrays < booleans. */
export function typeRank(v: unknown): number {
  if (v === null || v === undefined) return 0;
  switch (typeof v) {
    case 'number':
      return 1;
    case 'string':
      return 2;
    case 'boolean':
      return 5;
    default:
      return Array.isArray(v) ? 4 : 3;
  }
}

export function compareValues(a: unknown, b: unknown): number {
  const ra = typeRank(a);
  const rb = typeRank(b);
  if (ra !== rb) return ra - rb;
  if (ra === 1 || ra === 2 || ra === 5) return compareSameType(a as any, b as any);
  return 0; // objects and arrays: not ordered here (the port's $max/$min take scalars)
}

/**
 * Applies an update to a document in place. `inserting` is true when the document is being created by an
 * upsert: then $setOnInsert applies and every operator starts from a missing field ($inc from 0).

/** A ValidationError naming the field at fault: `invalid <what> on <field>: <problem>`. */
export function invalid(what: string, field: string, problem: string): ValidationError {
  return new ValidationError(`invalid ${what} on ${field}: ${problem}`, [{ field, problem }]);
}

/** JSON text of a document; a value JSON cannot hold is bad input. */
export function toJson(doc: unknown): string {
  try {
    return JSON.stringify(doc);
  } catch (e) {
    throw new ValidationError(`document is not JSON-serialisable: ${(e as Error).message}`, [
      { field: 'doc', problem: 'not JSON' },
    ]);
  }
}
