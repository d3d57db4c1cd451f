import Database from 'better-sqlite3';
import { tuneForWrites } from './pragmas';
import { SqliteCheckpointer, checkpointerFor } from './checkpointer';
import {
  CollectionSpec,
  Document,
  DuplicateKeyError,
  Filter,
  FindOptions,
  IndexSpec,
  Page,
  PurserError,
  ReadStore,
  Scalar,
  SortSpec,
  UpdateOp,
  UpdateOptions,
  UpdateResult,
  UpdateSpec,
  ValidationError,
} from '@purser/core';

/* ------------------------------------------------------------------------------------------------------------
 * Engine-neutral helpers: validation, the JS filter matcher, update application and cursors.
 * They live here (the embedded adapter) and are shared with MongoReadStore, so that both adapters accept and
 * refuse exactly the same inputs. They are not part of the public API of @purser/engines.
 * ---------------------------------------------------------------------------------------------------------- */

const COLLECTION_NAME = /^[a-zA-Z_][a-zA-Z0-9_]{0,62}$/;
/** One segment of a dotted field path: letters, digits, `_` and `-` (never `$`, `.`, quotes or spaces). */
const PATH_SEGMENT = /^[\p{L}\p{N}_-]+$/u;
export const DEFAULT_LIMIT = 100;
export const MAX_LIMIT = 10_000;

export function validateCollectionName(name: unknown): string {
  if (typeof name !== 'string' || !COLLECTION_NAME.test(name)) {
    throw new ValidationError(`invalid collection name ${JSON.stringify(name)}`, [
      { field: 'collection', problem: 'must match ^[a-zA-Z_][a-zA-Z0-9_]{0,62}$' },
    ]);
  }
  return name;
}

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

const hasOwn = Object.prototype.hasOwnProperty;

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

function isScalar(v: unknown): v is Scalar {
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
        if (!FILTER_OPS.has(op)) throw bad(what, path, `unsupported operator ${op}`);
        if (op === '$in' || op === '$nin') {
          if (!Array.isArray(v) || !v.every(isScalar))
            throw bad(what, path, `${op} needs an array of scalars`);
          conds.push({ op, value: v });
        } else if (op === '$exists') {
          if (typeof v !== 'boolean') throw bad(what, path, '$exists needs a boolean');
          conds.push({ op, value: v });
        } else {
          if (!isScalar(v)) throw bad(what, path, `${op} needs a string, finite number, boolean or null`);
          conds.push({ op: op as FilterOp, value: v });
        }
      }
      if (conds.length === 0) throw bad(what, path, 'empty condition');
    } else {
      throw bad(what, path, 'a condition is a scalar or an object of operators');
    }
    out.push({ path, segs, conds });
  }
  return out;
}

function bad(what: string, field: string, problem: string): ValidationError {
  return new ValidationError(`invalid ${what} on ${field}: ${problem}`, [{ field, problem }]);
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

function compareSameType(a: string | number | boolean, b: string | number | boolean): number {
  if (typeof a === 'string') return compareStrings(a, b as string);
  if (typeof a === 'number') return a - (b as number);
  return (a ? 1 : 0) - (b ? 1 : 0);
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

/* ----------------------------------------------------- updates ----------------------------------------------------- */

enum Kind {
  SetOnInsert,
  Set,
  Unset,
  Inc,
  Max,
  Min,
  Push,
}

const UPDATE_OPS: Record<string, Kind> = {
  $setOnInsert: Kind.SetOnInsert,
  $set: Kind.Set,
  $unset: Kind.Unset,
  $inc: Kind.Inc,
  $max: Kind.Max,
  $min: Kind.Min,
  $push: Kind.Push,
};

interface UpdateStep {
  kind: Kind;
  /** The operator, e.g. '$inc'. */
  op: string;
  path: string;
  segs: string[];
  value: any;
  /** $push: the values to append. */
  each?: unknown[];
}

export interface CompiledUpdate {
  steps: UpdateStep[];
}

/** Validates an update (operators, paths, no two paths overlapping, never _id). Throws ValidationError. */
export function compileUpdate(update: UpdateSpec): CompiledUpdate {
  if (!isPlainObject(update))
    throw new ValidationError('update must be an object', [{ field: 'update', problem: 'not an object' }]);
  const steps: UpdateStep[] = [];
  for (const opName in update) {
    const kind = UPDATE_OPS[opName];
    if (kind === undefined) throw bad('update', opName, `unsupported update operator ${opName}`);
    const fields = (update as Record<string, unknown>)[opName];
    if (fields === undefined) continue;
    if (!isPlainObject(fields)) throw bad('update', opName, 'operator value must be an object of fields');
    for (const path in fields) {
      const value = fields[path];
      const segs = splitPath(path);
      if (segs[0] === '_id') throw bad('update', path, '_id is immutable');
      const step: UpdateStep = { kind, op: opName, path, segs, value };
      switch (kind) {
        case Kind.Inc:
          if (typeof value !== 'number' || !Number.isFinite(value))
            throw bad('update', path, '$inc needs a finite number');
          break;
        case Kind.Max:
        case Kind.Min:
          if (!isScalar(value)) throw bad('update', path, `${opName} needs a scalar`);
          break;
        case Kind.Push:
          if (isPlainObject(value) && Object.keys(value).some((k) => k.startsWith('$'))) {
            const keys = Object.keys(value);
            if (keys.length !== 1 || keys[0] !== '$each' || !Array.isArray(value.$each)) {
              throw bad('update', path, '$push supports one value or { $each: [...] } only');
            }
            step.each = value.$each as unknown[];
          } else {
            if (value === undefined) throw bad('update', path, '$push needs a value');
            step.each = [value];
          }
          break;
        case Kind.Set:
        case Kind.SetOnInsert:
          if (value === undefined) throw bad('update', path, `${opName} needs a value`);
          break;
        default:
          break;
      }
      steps.push(step);
    }
  }
  if (steps.length === 0)
    throw new ValidationError('update has no fields to change', [{ field: 'update', problem: 'empty' }]);
  for (let i = 0; i < steps.length; i++) {
    for (let j = i + 1; j < steps.length; j++) {
      const a = steps[i].path;
      const b = steps[j].path;
      if (
        a === b ||
        (b.length > a.length
          ? b.startsWith(a) && b[a.length] === '.'
          : a.startsWith(b) && a[b.length] === '.')
      ) {
        throw bad('update', b, `updating ${b} would conflict with ${a}`);
      }
    }
  }
  return { steps };
}

/** The parent object of a path's last segment, creating missing objects on the way. */
function parentOf(doc: Record<string, any>, segs: readonly string[]): Record<string, any> {
  let cur = doc;
  for (let i = 0; i < segs.length - 1; i++) {
    const s = segs[i];
    let next = hasOwn.call(cur, s) ? cur[s] : undefined;
    if (next === undefined) {
      next = {};
      cur[s] = next;
    } else if (!isPlainObject(next)) {
      throw new ValidationError(
        `cannot create field ${segs[i + 1]} in ${segs.slice(0, i + 1).join('.')}: not an object`,
        [{ field: segs.join('.'), problem: 'path crosses a non-object value' }],
      );
    }
    cur = next;
  }
  return cur;
}

/** MongoDB's order of types for $max/$min: null < numbers < strings < objects < arrays < booleans. */
function typeRank(v: unknown): number {
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

function compareValues(a: unknown, b: unknown): number {
  const ra = typeRank(a);
  const rb = typeRank(b);
  if (ra !== rb) return ra - rb;
  if (ra === 1 || ra === 2 || ra === 5) return compareSameType(a as any, b as any);
  return 0; // objects and arrays: not ordered here (the port's $max/$min take scalars)
}

/**
 * Applies an update to a document in place. `inserting` is true when the document is being created by an
 * upsert: then $setOnInsert applies and every operator starts from a missing field ($inc from 0).
 */
export function applyUpdate(doc: Record<string, any>, update: CompiledUpdate, inserting: boolean): void {
  for (const step of update.steps) {
    const { segs } = step;
    const last = segs[segs.length - 1];
    switch (step.kind) {
      case Kind.SetOnInsert:
        if (inserting) parentOf(doc, segs)[last] = step.value;
        break;
      case Kind.Set:
        parentOf(doc, segs)[last] = step.value;
        break;
      case Kind.Unset: {
        let cur: any = doc;
        for (let i = 0; i < segs.length - 1 && cur !== undefined; i++) {
          cur = isPlainObject(cur) && hasOwn.call(cur, segs[i]) ? cur[segs[i]] : undefined;
        }
        if (isPlainObject(cur) && hasOwn.call(cur, last)) delete cur[last];
        break;
      }
      case Kind.Inc: {
        const parent = parentOf(doc, segs);
        const cur = hasOwn.call(parent, last) ? parent[last] : undefined;
        if (cur === undefined) parent[last] = step.value;
        else if (typeof cur === 'number') parent[last] = cur + step.value;
        else throw typeMismatch(step.path, '$inc', 'a non-numeric value');
        break;
      }
      case Kind.Max:
      case Kind.Min: {
        const parent = parentOf(doc, segs);
        const cur = hasOwn.call(parent, last) ? parent[last] : undefined;
        if (cur === undefined) parent[last] = step.value;
        else {
          const d = compareValues(step.value, cur);
          if (step.kind === Kind.Max ? d > 0 : d < 0) parent[last] = step.value;
        }
        break;
      }
      case Kind.Push: {
        const parent = parentOf(doc, segs);
        const cur = hasOwn.call(parent, last) ? parent[last] : undefined;
        if (cur === undefined) parent[last] = step.each!.slice();
        else if (Array.isArray(cur)) for (const e of step.each!) cur.push(e);
        else throw typeMismatch(step.path, '$push', 'a non-array value');
        break;
      }
    }
  }
}

function typeMismatch(path: string, op: string, what: string): ValidationError {
  return new ValidationError(`cannot apply ${op} to ${path}: it holds ${what}`, [
    { field: path, problem: 'type mismatch' },
  ]);
}

/** The document an upsert inserts: only _id and the fields of the update (guards are never copied). */
export function buildInsertDocument(id: string, update: CompiledUpdate): Document {
  const doc: Document = { _id: id };
  applyUpdate(doc, update, true);
  return doc;
}

export function validateId(id: unknown, field = '_id'): string {
  if (typeof id !== 'string' || id.length === 0 || id.length > 1024) {
    throw new ValidationError(`invalid ${field} ${JSON.stringify(id)}`, [
      { field, problem: 'must be a non-empty string' },
    ]);
  }
  return id;
}

/* --------------------------------------------------- sort & cursors --------------------------------------------------- */

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
      if (dir !== 1 && dir !== -1) throw bad('sort', path, 'direction must be 1 or -1');
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

function sortSignature(keys: SortKey[]): string {
  return keys.map((k) => `${k.path}:${k.dir}`).join(',');
}

/** An opaque cursor: base64url JSON of the sort signature and the last item's sort values (the last is _id). */
export function encodeCursor(keys: SortKey[], values: Scalar[]): string {
  return Buffer.from(JSON.stringify({ s: sortSignature(keys), v: values }), 'utf8').toString('base64url');
}

export function decodeCursor(cursor: string, keys: SortKey[]): Scalar[] {
  let parsed: any;
  try {
    parsed = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
  } catch {
    parsed = undefined;
  }
  if (
    !isPlainObject(parsed) ||
    !Array.isArray(parsed.v) ||
    parsed.v.length !== keys.length ||
    !parsed.v.every(isScalar) ||
    typeof parsed.v[parsed.v.length - 1] !== 'string'
  ) {
    throw new ValidationError('invalid cursor', [{ field: 'cursor', problem: 'malformed' }]);
  }
  if (parsed.s !== sortSignature(keys)) {
    throw new ValidationError('cursor was made for another sort', [
      { field: 'cursor', problem: 'sort mismatch' },
    ]);
  }
  return parsed.v as Scalar[];
}

/* ----------------------------------------------------- SQL translation ----------------------------------------------------- */

/** `'$."a"."b"'`: the JSON path literal (segments are validated, so they never hold quotes). */
function jsonPathLiteral(segs: readonly string[]): string {
  let p = "'$";
  for (const s of segs) p += `."${s}"`;
  return p + "'";
}

/** The SQL expression for a field: the indexed `json_extract(doc, '$."f"')`, or the id column for _id. */
export function fieldExpr(segs: readonly string[]): string {
  return segs.length === 1 && segs[0] === '_id' ? 'id' : `json_extract(doc, ${jsonPathLiteral(segs)})`;
}

const SQL_OPS: Record<string, string> = { $gt: '>', $gte: '>=', $lt: '<', $lte: '<=' };
const NUM = "('integer','real')";

type Params = unknown[];

/** Binds a scalar: better-sqlite3 cannot bind booleans, and json_extract yields 1/0 for true/false. */
function bindable(x: Scalar): unknown {
  return typeof x === 'boolean' ? (x ? 1 : 0) : x;
}

class FieldSql {
  readonly X: string;
  readonly T: string;
  private readonly P: string;
  /**
   * @param scalarOnly the collection declared which fields hold arrays and this is not one of them: no array branch,
   *   so the condition is a plain (index-friendly) term and sorted queries can walk an index instead of sorting.
   */
  constructor(
    segs: readonly string[],
    private readonly scalarOnly = false,
  ) {
    this.P = jsonPathLiteral(segs);
    this.X = `json_extract(doc, ${this.P})`;
    this.T = `json_type(doc, ${this.P})`;
  }

  /**
   * The array branch: the field is an array and some element satisfies `elem` (over json_each's value/type).
   * The leading range on X (arrays extract as JSON text starting with '[') keeps it index-friendly.
   */
  private arr(elem: string): string {
    return `(${this.X} >= '[' AND ${this.X} < '\\' AND ${this.T} = 'array' AND EXISTS (SELECT 1 FROM json_each(doc, ${this.P}) AS je WHERE ${elem}))`;
  }

  private scalarIn(xs: Scalar[], p: Params): string {
    const terms: string[] = [];
    const strings = xs.filter((x) => typeof x === 'string');
    const numbers = xs.filter((x) => typeof x === 'number');
    if (strings.length) {
      terms.push(`(${this.X} IN (${strings.map(() => '?').join(',')}) AND ${this.T} = 'text')`);
      p.push(...strings);
    }
    if (numbers.length) {
      terms.push(`(${this.X} IN (${numbers.map(() => '?').join(',')}) AND ${this.T} IN ${NUM})`);
      p.push(...numbers);
    }
    if (xs.includes(true)) terms.push(`(${this.X} = 1 AND ${this.T} = 'true')`);
    if (xs.includes(false)) terms.push(`(${this.X} = 0 AND ${this.T} = 'false')`);
    if (xs.includes(null)) terms.push(`${this.X} IS NULL`);
    return terms.join(' OR ');
  }

  private elemIn(xs: Scalar[], p: Params): string {
    const terms: string[] = [];
    const strings = xs.filter((x) => typeof x === 'string');
    const numbers = xs.filter((x) => typeof x === 'number');
    if (strings.length) {
      terms.push(`(je.type = 'text' AND je.value IN (${strings.map(() => '?').join(',')}))`);
      p.push(...strings);
    }
    if (numbers.length) {
      terms.push(`(je.type IN ${NUM} AND je.value IN (${numbers.map(() => '?').join(',')}))`);
      p.push(...numbers);
    }
    if (xs.includes(true)) terms.push(`je.type = 'true'`);
    if (xs.includes(false)) terms.push(`je.type = 'false'`);
    if (xs.includes(null)) terms.push(`je.type = 'null'`);
    return terms.join(' OR ');
  }

  in(xs: Scalar[], p: Params): string {
    if (xs.length === 0) return '0';
    const scalar = this.scalarIn(xs, p);
    if (this.scalarOnly) return `(${scalar})`;
    return `(${scalar} OR ${this.arr(this.elemIn(xs, p))})`;
  }

  range(op: FilterOp, x: Scalar, p: Params): string {
    if (x === null) return op === '$gte' || op === '$lte' ? this.in([null], p) : '0';
    const o = SQL_OPS[op];
    const upper = op === '$gt' || op === '$gte';
    let scalar: string;
    let elem: string;
    if (typeof x === 'number') {
      // Numbers sort below all text in SQLite: bound $gt/$gte above by '' so the index range stays tight.
      scalar = `(${this.X} ${o} ?${upper ? ` AND ${this.X} < ''` : ''} AND ${this.T} IN ${NUM})`;
      elem = `(je.type IN ${NUM} AND je.value ${o} ?)`;
    } else if (typeof x === 'string') {
      scalar = `(${this.X} ${o} ?${upper ? '' : ` AND ${this.X} >= ''`} AND ${this.T} = 'text')`;
      elem = `(je.type = 'text' AND je.value ${o} ?)`;
    } else {
      scalar = `(${this.X} ${o} ? AND ${this.T} IN ('true','false'))`;
      elem = `(je.type IN ('true','false') AND je.value ${o} ?)`;
    }
    if (this.scalarOnly) {
      p.push(bindable(x));
      return scalar;
    }
    p.push(bindable(x), bindable(x)); // one for the scalar branch, one for the array branch
    return `(${scalar} OR ${this.arr(elem)})`;
  }

  cond(c: CompiledCondition, p: Params): string {
    switch (c.op) {
      case '$eq':
        return this.in([c.value], p);
      case '$in':
        return this.in(c.value, p);
      case '$ne':
        return `NOT IFNULL(${this.in([c.value], p)}, 0)`;
      case '$nin':
        return `NOT IFNULL(${this.in(c.value, p)}, 0)`;
      case '$exists':
        return c.value ? `${this.T} IS NOT NULL` : `${this.T} IS NULL`;
      default:
        return this.range(c.op, c.value, p);
    }
  }
}

/** _id is the id column: always a non-null string, never an array. */
function idCond(c: CompiledCondition, p: Params): string {
  const strings = (xs: Scalar[]) => xs.filter((x): x is string => typeof x === 'string');
  switch (c.op) {
    case '$eq':
    case '$in':
    case '$ne':
    case '$nin': {
      const xs = strings(c.op === '$eq' || c.op === '$ne' ? [c.value] : c.value);
      const neg = c.op === '$ne' || c.op === '$nin';
      if (xs.length === 0) return neg ? '1' : '0';
      p.push(...xs);
      return `id ${neg ? 'NOT IN' : 'IN'} (${xs.map(() => '?').join(',')})`;
    }
    case '$exists':
      return c.value ? '1' : '0';
    default:
      if (typeof c.value !== 'string') return '0';
      p.push(c.value);
      return `id ${SQL_OPS[c.op]} ?`;
  }
}

/** Translates a compiled filter to a SQL condition on (id, doc), with the same semantics as matchesFilter. */
export function filterToSql(
  filter: CompiledField[],
  p: Params,
  arrays: ReadonlySet<string> | null = null,
): string {
  if (filter.length === 0) return '1';
  const parts: string[] = [];
  for (const f of filter) {
    if (f.path === '_id') {
      for (const c of f.conds) parts.push(idCond(c, p));
    } else {
      const fs = new FieldSql(f.segs, arrays !== null && !arrays.has(f.path));
      for (const c of f.conds) parts.push(fs.cond(c, p));
    }
  }
  return parts.join(' AND ');
}

/** Keyset condition "comes after the cursor row" in the order of `keys` (SQLite's native value order). */
function cursorToSql(keys: SortKey[], values: Scalar[], p: Params): string {
  const build = (i: number): string => {
    const k = keys[i];
    const X = fieldExpr(k.segs);
    const v = values[i];
    if (i === keys.length - 1) {
      p.push(v);
      return `${X} ${k.dir === 1 ? '>' : '<'} ?`;
    }
    let after: string;
    if (k.dir === 1) {
      if (v === null) after = `${X} IS NOT NULL`;
      else {
        after = `${X} > ?`;
        p.push(v);
      }
    } else if (v === null) {
      after = '0';
    } else {
      after = `(${X} < ? OR ${X} IS NULL)`;
      p.push(v);
    }
    let eq: string;
    if (v === null) eq = `${X} IS NULL`;
    else {
      eq = `${X} = ?`;
      p.push(v);
    }
    return `(${after} OR (${eq} AND ${build(i + 1)}))`;
  };
  const full = build(0);
  // A plain leading bound lets SQLite seek the index to the cursor instead of walking from the first row.
  const k0 = keys[0];
  if (keys.length > 1 && k0.dir === 1 && values[0] !== null) {
    p.push(values[0]);
    return `(${full} AND ${fieldExpr(k0.segs)} >= ?)`;
  }
  return full;
}

/* ------------------------------------------------------ the adapter ------------------------------------------------------ */

interface Collection {
  name: string;
  table: string;
  /** Fields declared to hold arrays (CollectionSpec.arrays); null when undeclared: any field may. */
  arrays: ReadonlySet<string> | null;
  get: Database.Statement<[string], string>;
  insert: Database.Statement<[string, string]>;
  insertIfAbsent: Database.Statement<[string, string]>;
  replace: Database.Statement<[string, string]>;
  remove: Database.Statement<[string]>;
  getMany: Database.Statement<[string], string>;
}

export interface SqliteReadStoreOptions {
  /** How long a write waits for another connection's lock (default 5000 ms). */
  busyTimeoutMs?: number;
  /** Checkpoint from a worker thread (SqliteCheckpointer) instead of only in the committing call. Default false. */
  checkpointThread?: boolean;
}

const NOT_MATCHED: UpdateResult = Object.freeze({ matched: false, upserted: false }) as UpdateResult;
const MATCHED: UpdateResult = Object.freeze({ matched: true, upserted: false }) as UpdateResult;
const UPSERTED: UpdateResult = Object.freeze({ matched: false, upserted: true }) as UpdateResult;

function isUniqueViolation(e: unknown): boolean {
  const code = (e as { code?: unknown })?.code;
  return code === 'SQLITE_CONSTRAINT_UNIQUE' || code === 'SQLITE_CONSTRAINT_PRIMARYKEY';
}

/** Index names default to MongoDB's: `a_1_b_-1`. */
export function indexName(spec: IndexSpec): string {
  if (!isPlainObject(spec) || !isPlainObject(spec.fields) || Object.keys(spec.fields).length === 0) {
    throw new ValidationError('an index needs at least one field', [
      { field: 'indexes', problem: 'no fields' },
    ]);
  }
  if (spec.name !== undefined && (typeof spec.name !== 'string' || !/^[\w.$-]{1,100}$/.test(spec.name))) {
    throw new ValidationError(`invalid index name ${JSON.stringify(spec.name)}`, [
      { field: 'indexes', problem: 'bad name' },
    ]);
  }
  return (
    spec.name ??
    Object.entries(spec.fields)
      .map(([k, d]) => `${k}_${d}`)
      .join('_')
  );
}

/**
 * Index columns. A non-unique index also ends with the id: find() always sorts by _id last, and a rowid table's
 * secondary index holds the rowid, not the id, so without it every sorted, paged query would need a full sort.
 */
function indexColumns(spec: IndexSpec): string {
  const cols = Object.entries(spec.fields).map(([path, dir]) => {
    if (dir !== 1 && dir !== -1) throw bad('index', path, 'direction must be 1 or -1');
    return `${fieldExpr(splitPath(path))} ${dir === 1 ? 'ASC' : 'DESC'}`;
  });
  if (!spec.unique && !('_id' in spec.fields)) cols.push('id ASC');
  return cols.join(', ');
}

/** FNV-1a, to keep SQLite index names unique after sanitising. */
function shortHash(s: string): string {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 0x01000193);
  return (h >>> 0).toString(36);
}

/**
 * The embedded read store: one SQLite table per collection, `rs_<name>(id TEXT PRIMARY KEY, doc TEXT NOT NULL)`
 * holding the document as JSON. Declared indexes become expression indexes on `json_extract(doc, '$."field"')`,
 * and filters are translated to SQL on the same expressions, so SQLite uses them.
 *
 * Semantics (shared with MongoReadStore, checked by test/contracts/read-store.contract.ts):
 * - filters follow MongoDB: comparisons are type-bracketed (numbers with numbers, strings with strings),
 *   `null` matches null and missing, an array field matches equality, $in and ranges when any element does;
 *   dotted paths address nested objects and do not traverse arrays;
 * - strings compare in binary (code point) order;
 * - sort order is null/missing < numbers < strings (booleans sort as 0/1 among numbers here, after strings in
 *   MongoDB: do not sort on mixed booleans); paging is keyset-based on the sort values and _id;
 * - updates are read-modify-write of the JSON inside one IMMEDIATE transaction: atomic per document even with
 *   other connections on the same file;
 * - unique indexes do not constrain documents where the field is missing or null.
 */
export class SqliteReadStore implements ReadStore {
  readonly name = 'sqlite';
  private readonly db: Database.Database;
  private readonly collections = new Map<string, Collection>();
  private readonly queries = new Map<string, Database.Statement>();
  private readonly tableExists: Database.Statement<[string], number>;
  private readonly updateTx: (
    c: Collection,
    id: string,
    u: CompiledUpdate,
    o: CompiledOptions,
  ) => UpdateResult;
  private readonly bulkTx: (c: Collection, ops: CompiledOp[]) => BulkOutcome[];
  private readonly deleteTx: (c: Collection, id: string, guard: CompiledField[]) => boolean;
  private readonly checkpointer: SqliteCheckpointer | null;

  constructor(path: string, options: SqliteReadStoreOptions = {}) {
    this.db = new Database(path);
    if (path !== ':memory:' && path !== '') this.db.pragma('journal_mode = WAL');
    this.db.pragma('synchronous = NORMAL');
    this.db.pragma(`busy_timeout = ${Math.max(0, Math.floor(options.busyTimeoutMs ?? 5000))}`);
    this.db.pragma('temp_store = MEMORY');
    tuneForWrites(this.db);
    this.checkpointer = checkpointerFor(path, options.checkpointThread);
    this.tableExists = this.db
      .prepare<[string], number>(`SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = ?`)
      .pluck();
    this.updateTx = this.db.transaction((c: Collection, id: string, u: CompiledUpdate, o: CompiledOptions) =>
      this.updateOne(c, id, u, o),
    ).immediate;
    this.bulkTx = this.db.transaction((c: Collection, ops: CompiledOp[]) =>
      ops.map((op): BulkOutcome => {
        try {
          return this.updateOne(c, op.id, op.update, op.options);
        } catch (e) {
          // A refused op (unique clash, type mismatch) is rolled back alone; anything else aborts the batch.
          if (e instanceof PurserError) return { error: e };
          throw e;
        }
      }),
    ).immediate;
    this.deleteTx = this.db.transaction((c: Collection, id: string, guard: CompiledField[]) => {
      const raw = c.get.get(id);
      if (raw === undefined || !matchesFilter(JSON.parse(raw), guard)) return false;
      return c.remove.run(id).changes > 0;
    }).immediate;
  }

  async ensureCollection(spec: CollectionSpec): Promise<void> {
    if (!isPlainObject(spec))
      throw new ValidationError('collection spec must be an object', [
        { field: 'spec', problem: 'not an object' },
      ]);
    const indexes = (spec.indexes ?? []).map((idx) => ({
      idx,
      name: indexName(idx),
      cols: indexColumns(idx),
    }));
    const c = this.collection(spec.name, true)!;
    c.arrays = spec.arrays ? new Set(spec.arrays) : null;
    const declared = new Set<string>();
    for (const { idx, name, cols } of indexes) {
      const sqlName = `${c.table}__${name.replace(/[^A-Za-z0-9_]/g, '_').slice(0, 60)}_${shortHash(`${name}|${cols}`)}`;
      declared.add(sqlName);
      try {
        this.db.exec(
          `CREATE ${idx.unique ? 'UNIQUE ' : ''}INDEX IF NOT EXISTS "${sqlName}" ON "${c.table}" (${cols})`,
        );
      } catch (e) {
        if (isUniqueViolation(e))
          throw new DuplicateKeyError(`cannot create unique index ${name} on ${spec.name}: duplicate values`);
        throw e;
      }
    }
    // The declared indexes are the collection's indexes: one no longer declared would cost every write its upkeep.
    const prefix = `${c.table}__`;
    const existing = this.db
      .prepare<[string, number, string], string>(
        `SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = ? AND substr(name, 1, ?) = ?`,
      )
      .pluck()
      .all(c.table, prefix.length, prefix);
    for (const name of existing) if (!declared.has(name)) this.db.exec(`DROP INDEX IF EXISTS "${name}"`);
  }

  async dropCollection(name: string): Promise<void> {
    validateCollectionName(name);
    for (const key of this.queries.keys()) if (key.startsWith(`${name}\u0000`)) this.queries.delete(key);
    this.collections.delete(name);
    this.db.exec(`DROP TABLE IF EXISTS "rs_${name}"`);
  }

  async get<T extends Document = Document>(collection: string, id: string): Promise<T | null> {
    const c = this.collection(collection, false);
    if (!c || typeof id !== 'string') return null;
    const raw = c.get.get(id);
    return raw === undefined ? null : (JSON.parse(raw) as T);
  }

  async getMany<T extends Document = Document>(collection: string, ids: string[]): Promise<T[]> {
    const c = this.collection(collection, false);
    if (!Array.isArray(ids))
      throw new ValidationError('ids must be an array', [{ field: 'ids', problem: 'not an array' }]);
    if (!c || ids.length === 0) return [];
    const byId = new Map<string, T>();
    for (const raw of c.getMany.all(JSON.stringify(ids))) {
      const doc = JSON.parse(raw) as T;
      byId.set(doc._id, doc);
    }
    const out: T[] = [];
    const seen = new Set<string>();
    for (const id of ids) {
      const doc = byId.get(id);
      if (doc && !seen.has(id)) {
        seen.add(id);
        out.push(doc);
      }
    }
    return out;
  }

  async find<T extends Document = Document>(
    collection: string,
    filter: Filter,
    options: FindOptions = {},
  ): Promise<Page<T>> {
    const compiled = compileFilter(filter);
    const keys = compileSort(options.sort);
    const limit = normalizeLimit(options.limit);
    const after = options.cursor ? decodeCursor(options.cursor, keys) : null;
    const c = this.collection(collection, false);
    if (!c) return { items: [], nextCursor: null };
    const params: Params = [];
    let where = filterToSql(compiled, params, c.arrays);
    if (after) where = `(${where}) AND ${cursorToSql(keys, after, params)}`;
    const sortExprs = keys.map((k) => fieldExpr(k.segs));
    const sql =
      `SELECT doc, ${sortExprs.join(', ')} FROM "${c.table}" WHERE ${where} ` +
      `ORDER BY ${keys.map((k, i) => `${sortExprs[i]} ${k.dir === 1 ? 'ASC' : 'DESC'}`).join(', ')} LIMIT ?`;
    params.push(limit + 1);
    const rows = this.query(c, sql)
      .raw(true)
      .all(...params) as unknown[][];
    const more = rows.length > limit;
    if (more) rows.length = limit;
    const items = rows.map((r) => JSON.parse(r[0] as string) as T);
    const nextCursor = more ? encodeCursor(keys, rows[rows.length - 1].slice(1) as Scalar[]) : null;
    return { items, nextCursor };
  }

  async count(collection: string, filter: Filter): Promise<number> {
    const compiled = compileFilter(filter);
    const c = this.collection(collection, false);
    if (!c) return 0;
    const params: Params = [];
    const sql = `SELECT count(*) FROM "${c.table}" WHERE ${filterToSql(compiled, params, c.arrays)}`;
    return this.query(c, sql)
      .pluck(true)
      .get(...params) as number;
  }

  async insert(collection: string, doc: Document): Promise<void> {
    if (!isPlainObject(doc))
      throw new ValidationError('document must be an object', [{ field: 'doc', problem: 'not an object' }]);
    const id = validateId(doc._id);
    const json = toJson(doc);
    const c = this.collection(collection, true)!;
    try {
      c.insert.run(id, json);
    } catch (e) {
      if (isUniqueViolation(e)) throw duplicate(collection, e);
      throw e;
    }
  }

  async update(
    collection: string,
    id: string,
    update: UpdateSpec,
    options: UpdateOptions = {},
  ): Promise<UpdateResult> {
    validateId(id);
    const u = compileUpdate(update);
    const o = compileOptions(options);
    const c = this.collection(collection, true)!;
    return this.updateTx(c, id, u, o);
  }

  async insertMany(collection: string, docs: Document[]): Promise<{ inserted: number }> {
    if (!Array.isArray(docs))
      throw new ValidationError('docs must be an array', [{ field: 'docs', problem: 'not an array' }]);
    if (docs.length === 0) return { inserted: 0 };
    const rows = docs.map((doc) => {
      if (!isPlainObject(doc))
        throw new ValidationError('document must be an object', [{ field: 'doc', problem: 'not an object' }]);
      return [validateId(doc._id), toJson(doc)] as const;
    });
    const c = this.collection(collection, true)!;
    let inserted = 0;
    try {
      this.db.transaction(() => {
        for (const [id, json] of rows) inserted += c.insertIfAbsent.run(id, json).changes;
      })();
    } catch (e) {
      if (isUniqueViolation(e)) throw duplicate(collection, e);
      throw e;
    }
    return { inserted };
  }

  async bulkUpdate(collection: string, ops: UpdateOp[]): Promise<UpdateResult[]> {
    if (!Array.isArray(ops))
      throw new ValidationError('ops must be an array', [{ field: 'ops', problem: 'not an array' }]);
    if (ops.length === 0) return [];
    const compiled = ops.map((op): CompiledOp => ({
      id: validateId(op?.id),
      update: compileUpdate(op.update),
      options: compileOptions(op.options),
    }));
    const c = this.collection(collection, true)!;
    const outcomes = this.bulkTx(c, compiled);
    return resultsOrThrow(outcomes);
  }

  async delete(collection: string, id: string, guard?: Filter): Promise<boolean> {
    const g = compileFilter(guard, 'guard');
    const c = this.collection(collection, false);
    if (!c || typeof id !== 'string') return false;
    if (g.length === 0) return c.remove.run(id).changes > 0;
    return this.deleteTx(c, id, g);
  }

  async close(): Promise<void> {
    await this.checkpointer?.stop();
    if (this.db.open) this.db.close();
  }

  /**
   * Runs inside a transaction: read, check the guard, apply in JS, write back. An update that only $sets top-level
   * fields is done in SQL instead (json_set, the guard as a WHERE clause), without parsing the stored document in
   * JS: projections that rewrite large maps of a big document pay for the maps they write, not for the document.
   */
  private updateOne(c: Collection, id: string, u: CompiledUpdate, o: CompiledOptions): UpdateResult {
    if (
      u.steps.length > 0 &&
      u.steps.every((st) => st.kind === Kind.Set && st.segs.length === 1 && st.value !== undefined)
    ) {
      const params: Params = [];
      const where = o.guard.length ? ` AND (${filterToSql(o.guard, params, c.arrays)})` : '';
      const sets = u.steps.map((st) => `, ${jsonPathLiteral(st.segs)}, json(?)`).join('');
      const sql = `UPDATE "${c.table}" SET doc = json_set(doc${sets}) WHERE id = ?${where}`;
      let changes: number;
      try {
        changes = this.query(c, sql).run(
          ...u.steps.map((st) => JSON.stringify(st.value)),
          id,
          ...params,
        ).changes;
      } catch (e) {
        if (isUniqueViolation(e)) throw duplicate(c.name, e);
        throw e;
      }
      if (changes > 0) return MATCHED;
      if (c.get.get(id) !== undefined || !o.upsert) return NOT_MATCHED;
      try {
        c.insert.run(id, toJson(buildInsertDocument(id, u)));
      } catch (e) {
        if (isUniqueViolation(e)) throw duplicate(c.name, e);
        throw e;
      }
      return UPSERTED;
    }
    const raw = c.get.get(id);
    if (raw !== undefined) {
      const doc = JSON.parse(raw);
      if (o.guard.length && !matchesFilter(doc, o.guard)) return NOT_MATCHED;
      applyUpdate(doc, u, false);
      const json = toJson(doc);
      if (json !== raw) {
        try {
          c.replace.run(json, id);
        } catch (e) {
          if (isUniqueViolation(e)) throw duplicate(c.name, e);
          throw e;
        }
      }
      return MATCHED;
    }
    if (!o.upsert) return NOT_MATCHED;
    const json = toJson(buildInsertDocument(id, u));
    try {
      c.insert.run(id, json);
    } catch (e) {
      if (isUniqueViolation(e)) throw duplicate(c.name, e);
      throw e;
    }
    return UPSERTED;
  }

  private collection(name: string, create: boolean): Collection | undefined {
    const cached = this.collections.get(name);
    if (cached) return cached;
    validateCollectionName(name);
    const table = `rs_${name}`;
    if (create)
      this.db.exec(`CREATE TABLE IF NOT EXISTS "${table}" (id TEXT PRIMARY KEY, doc TEXT NOT NULL)`);
    else if (this.tableExists.get(table) === 0) return undefined;
    const c: Collection = {
      name,
      table,
      arrays: null,
      get: this.db.prepare<[string], string>(`SELECT doc FROM "${table}" WHERE id = ?`).pluck(),
      insert: this.db.prepare<[string, string]>(`INSERT INTO "${table}" (id, doc) VALUES (?, ?)`),
      insertIfAbsent: this.db.prepare<[string, string]>(
        `INSERT INTO "${table}" (id, doc) VALUES (?, ?) ON CONFLICT(id) DO NOTHING`,
      ),
      replace: this.db.prepare<[string, string]>(`UPDATE "${table}" SET doc = ? WHERE id = ?`),
      remove: this.db.prepare<[string]>(`DELETE FROM "${table}" WHERE id = ?`),
      getMany: this.db
        .prepare<[string], string>(`SELECT doc FROM "${table}" WHERE id IN (SELECT value FROM json_each(?))`)
        .pluck(),
    };
    this.collections.set(name, c);
    return c;
  }

  /** Prepared statements for filtered reads, cached by SQL text (filters of the same shape share one). */
  private query(c: Collection, sql: string): Database.Statement {
    const key = `${c.name}\u0000${sql}`;
    let st = this.queries.get(key);
    if (!st) {
      if (this.queries.size >= 500) this.queries.clear();
      st = this.db.prepare(sql);
      this.queries.set(key, st);
    }
    return st;
  }
}

interface CompiledOptions {
  upsert: boolean;
  guard: CompiledField[];
}

interface CompiledOp {
  id: string;
  update: CompiledUpdate;
  options: CompiledOptions;
}

export type BulkOutcome = UpdateResult | { error: unknown };

export function compileOptions(options: UpdateOptions | undefined): CompiledOptions {
  return { upsert: options?.upsert === true, guard: compileFilter(options?.guard, 'guard') };
}

/**
 * bulkUpdate semantics shared by the adapters: every op is attempted; when some failed (a unique index clash,
 * a type mismatch), the first error is thrown after the others were applied, with the failed op indexes in
 * its details.
 */
export function resultsOrThrow(outcomes: BulkOutcome[]): UpdateResult[] {
  const failed = outcomes.flatMap((o, index) => ('error' in o ? [{ index, error: o.error }] : []));
  if (failed.length === 0) return outcomes as UpdateResult[];
  const first = failed[0].error;
  if (first instanceof PurserError) {
    const details = failed.map((f) => ({
      field: `ops[${f.index}]`,
      problem: f.error instanceof Error ? f.error.message : String(f.error),
      index: f.index,
    }));
    const Ctor = first.constructor as new (m: string, d: typeof details) => PurserError;
    throw new Ctor(`${failed.length} of ${outcomes.length} updates failed; first: ${first.message}`, details);
  }
  throw first;
}

function toJson(doc: unknown): string {
  try {
    return JSON.stringify(doc);
  } catch (e) {
    throw new ValidationError(`document is not JSON-serialisable: ${(e as Error).message}`, [
      { field: 'doc', problem: 'not JSON' },
    ]);
  }
}

function duplicate(collection: string, e: unknown): DuplicateKeyError {
  const onId = (e as { code?: unknown }).code === 'SQLITE_CONSTRAINT_PRIMARYKEY';
  return new DuplicateKeyError(`duplicate key in ${collection}${onId ? ' (_id)' : ''}`, [
    onId ? { field: '_id', problem: 'duplicate key' } : { problem: 'unique index clash' },
  ]);
}
