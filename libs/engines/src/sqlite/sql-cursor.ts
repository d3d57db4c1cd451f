import { Scalar } from '@purser/core';
import { SortKey } from '../query/sort';
import { fieldExpr, Params } from './sql-filter';

/** Keyset condition "comes after the cursor row" in the order of `keys` (SQLite's native value order). */
export function cursorToSql(keys: SortKey[], values: Scalar[], p: Params): string {
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
