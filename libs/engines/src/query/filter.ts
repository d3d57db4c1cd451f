import { Filter, Scalar, ValidationError } from '@purser/core';
import { compareSameType, getPath, invalid, isPlainObject, isScalar, splitPath } from './values';

/*
 * The port's filter language (a MongoDB subset): validation into a compiled form every adapter translates, and the
 * in-memory matcher that defines its semantics (SQLite's SQL translation is tested to agree with it).
 */

export type FilterOp = '$eq' | '$ne' | '$in' | '$nin' | '$gt' | '$gte' | '$lt' | '$lte' | '$exists';
const FILTER_OPS = new Set<string>(['$eq', '$ne', '$in', '$nin', '$gt', '$gte', '$lt', '$lte', '$exists']);

export interface CompiledCondition {
  op: FilterOp;
  value: any;
}

export interface CompiledField {
  path: string;
  segs: string[];
  conds: CompiledCondition[];
}

/** Validates a filter and turns it into a list of (path, conditions). Throws ValidationError. */
export function compileFilter(filter: Filter | undefined | null, what = 'filter'): CompiledField[] {
  if (filter === undefined || filter === null) return [];
  if (!isPlainObject(filter))
    throw new ValidationError(`${what} must be an object`, [{ field: what, problem: 'not an object' }]);
  const out: CompiledField[] = [];
  for (const path in filter) {
    const segs = splitPath(path);
    const raw = (filter as Record<string, unknown>)[path];
    if (raw === undefined) continue;
    const conds: CompiledCondition[] = [];
    if (isScalar(raw)) {
      conds.push({ op: '$eq', value: raw });
    } else if (isPlainObject(raw)) {
      for (const op in raw) {
        const v = raw[op];
        if (!FILTER_OPS.has(op)) throw invalid(what, path, `unsupported operator ${op}`);
        if (op === '$in' || op === '$nin') {
          if (!Array.isArray(v) || !v.every(isScalar))
            throw invalid(what, path, `${op} needs an array of scalars`);
          conds.push({ op, value: v });
        } else if (op === '$exists') {
          if (typeof v !== 'boolean') throw invalid(what, path, '$exists needs a boolean');
          conds.push({ op, value: v });
        } else {
          if (!isScalar(v)) throw invalid(what, path, `${op} needs a string, finite number, boolean or null`);
          conds.push({ op: op as FilterOp, value: v });
        }
      }
      if (conds.length === 0) throw invalid(what, path, 'empty condition');
    } else {
      throw invalid(what, path, 'a condition is a scalar or an object of operators');
    }
    out.push({ path, segs, conds });
  }
  return out;
}

function scalarEquals(v: unknown, x: Scalar): boolean {
  return x === null ? v === null : v === x; // typeof-strict: 1 never equals true
}

/** MongoDB equality: null matches null and missing; arrays match when any element equals. */
function eqMatch(v: unknown, x: Scalar): boolean {
  if (x === null) {
    if (v === undefined || v === null) return true;
  } else if (v === x) {
    return true;
  }
  if (Array.isArray(v)) {
    for (const e of v) if (scalarEquals(e, x)) return true;
  }
  return false;
}

function inMatch(v: unknown, xs: Scalar[]): boolean {
  for (const x of xs) if (eqMatch(v, x)) return true;
  return false;
}

function rangeTest(c: unknown, op: FilterOp, x: string | number | boolean): boolean {
  if (typeof c !== typeof x) return false; // type bracketing, as in MongoDB
  const d = compareSameType(c as string | number | boolean, x);
  switch (op) {
    case '$gt':
      return d > 0;
    case '$gte':
      return d >= 0;
    case '$lt':
      return d < 0;
    default:
      return d <= 0;
  }
}

function rangeMatch(v: unknown, op: FilterOp, x: Scalar): boolean {
  if (x === null) return op === '$gte' || op === '$lte' ? eqMatch(v, null) : false;
  if (Array.isArray(v)) {
    for (const e of v) if (rangeTest(e, op, x)) return true;
    return false;
  }
  return rangeTest(v, op, x);
}

function condMatch(v: unknown, c: CompiledCondition): boolean {
  switch (c.op) {
    case '$eq':
      return eqMatch(v, c.value);
    case '$ne':
      return !eqMatch(v, c.value);
    case '$in':
      return inMatch(v, c.value);
    case '$nin':
      return !inMatch(v, c.value);
    case '$exists':
      return (v !== undefined) === c.value;
    default:
      return rangeMatch(v, c.op, c.value);
  }
}

/**
 * The JS matcher: MongoDB query semantics for the Filter subset (type-bracketed comparisons, null matches
 * missing, array fields match when any element does, each operator tested on its own). Used for update and
 * delete guards; SqliteReadStore's SQL translation is tested to agree with it.
 */
export function matchesFilter(doc: unknown, filter: CompiledField[]): boolean {
  for (const f of filter) {
    const v = getPath(doc, f.segs);
    for (const c of f.conds) if (!condMatch(v, c)) return false;
  }
  return true;
}
