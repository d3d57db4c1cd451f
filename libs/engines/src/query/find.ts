import { Filter, FindOptions, Scalar } from '@purser/core';
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
