import { Scalar } from '@purser/core';
import { CompiledCondition, CompiledField, FilterOp } from '../query/filter';

/*
 * The port's filters as SQL over `rs_<collection>(id, doc)`, with the semantics of the in-memory matcher
 * (query/filter.ts; sqlite-read-store.int.spec.ts checks that both agree on every kind of value). Fields are
 * `json_extract(doc, '$."a"."b"')`, the expressions declared indexes are built on, so SQLite uses them.
 */

/** `'$."a"."b"'`: the JSON path literal (segments are validated, so they never hold quotes). */
export function jsonPathLiteral(segs: readonly string[]): string {
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

export type Params = unknown[];

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
