import Database from 'better-sqlite3';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Filter, Scalar } from '@purser/core';
import { readStoreContract } from '@purser/testkit';
import { compileFilter, matchesFilter } from '../query/filter';
import { filterToSql } from './sql-filter';
import { SqliteReadStore } from './sqlite-read-store';

const dir = mkdtempSync(join(tmpdir(), 'purser-rs-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('SQLite read store contract (file, WAL)', () => {
  readStoreContract(async () => new SqliteReadStore(join(dir, 'contract.db')));
});

describe('SQLite read store contract (file, WAL, checkpoint thread)', () => {
  readStoreContract(
    async () => new SqliteReadStore(join(dir, 'contract-ckpt.db'), { checkpointThread: true }),
  );
});

describe('SQLite read store contract (:memory:)', () => {
  readStoreContract(async () => new SqliteReadStore(':memory:'));
});

describe('SQLite read store specifics', () => {
  /** Values a field may hold, including look-alikes: "1" vs 1 vs true, "[1]" vs [1], null vs missing. */
  const values: unknown[] = [
    undefined,
    null,
    0,
    1,
    1.5,
    2,
    -1,
    '',
    'a',
    'b',
    'A',
    '1',
    'é',
    '😀',
    '[1]',
    '[',
    true,
    false,
    [],
    [1],
    [1, 2],
    ['a', null],
    ['b', 'a'],
    [true],
    [[1]],
    { x: 1 },
  ];
  const operands: Scalar[] = [null, 0, 1, 1.5, 2, '', 'a', 'b', '1', '[1]', '😀', true, false];

  const filters: Filter[] = [];
  for (const path of ['v', 'o.v']) {
    for (const x of operands) {
      filters.push({ [path]: x });
      for (const op of ['$ne', '$gt', '$gte', '$lt', '$lte'] as const) filters.push({ [path]: { [op]: x } });
    }
    filters.push({ [path]: { $in: [1, 'a', null] } }, { [path]: { $nin: [1, 'a', null] } });
    filters.push(
      { [path]: { $in: [true, 2, 'b'] } },
      { [path]: { $nin: [false, ''] } },
      { [path]: { $in: [] } },
    );
    filters.push({ [path]: { $exists: true } }, { [path]: { $exists: false } });
    filters.push({ [path]: { $gt: 0, $lt: 2 } }, { [path]: { $gte: 'a', $lte: 'b' } });
  }
  filters.push(
    { _id: 'd3' },
    { _id: { $gt: 'd20' } },
    { _id: { $in: ['d1', 'd2', 3] } },
    { _id: { $ne: 'd1' } },
  );
  filters.push({ _id: 1 }, { _id: null }, { _id: { $exists: false } }, { _id: { $nin: ['d1'] } });

  let store: SqliteReadStore;
  let docs: Array<Record<string, unknown>>;
  const file = join(dir, 'specifics.db');

  beforeAll(async () => {
    store = new SqliteReadStore(file);
    await store.ensureCollection({ name: 'agree', indexes: [{ fields: { v: 1 } }] });
    docs = values.flatMap((v, i) => {
      const top: Record<string, unknown> = { _id: `d${i}` };
      if (v !== undefined) top.v = v;
      const nested: Record<string, unknown> = { _id: `n${i}`, o: v === undefined ? {} : { v } };
      return [top, nested];
    });
    docs.push({ _id: 'scalar-o', o: 5 }, { _id: 'array-o', o: [{ v: 1 }] });
    for (const d of docs) await store.insert('agree', d as { _id: string });
  });

  afterAll(async () => {
    await store.close();
  });

  it('given documents holding every kind of value, when filtering, then the SQL translation and the JS guard matcher agree on every case', async () => {
    const disagreements: string[] = [];
    for (const filter of filters) {
      const compiled = compileFilter(filter);
      const expected = docs
        .filter((d) => matchesFilter(d, compiled))
        .map((d) => d._id as string)
        .sort();
      const got = (await store.find('agree', filter, { limit: 1000 })).items.map((d) => d._id).sort();
      if (JSON.stringify(got) !== JSON.stringify(expected)) {
        disagreements.push(
          `${JSON.stringify(filter)}: sql=${JSON.stringify(got)} js=${JSON.stringify(expected)}`,
        );
      }
    }
    expect(disagreements).toEqual([]);
    expect(filters.length).toBeGreaterThan(150);
  });

  it('given some MongoDB semantics, then the JS matcher follows them', () => {
    const m = (doc: object, f: Filter) => matchesFilter(doc, compileFilter(f));
    expect(m({ v: [2, 9] }, { v: { $gt: 3, $lt: 5 } })).toBe(true); // each operator on its own element
    expect(m({ v: [null] }, { v: null })).toBe(true);
    expect(m({}, { v: { $gte: null } })).toBe(true);
    expect(m({}, { v: { $lt: null } })).toBe(false);
    expect(m({ v: true }, { v: 1 })).toBe(false);
    expect(m({ v: 'b' }, { v: { $gt: 1 } })).toBe(false);
    expect(m({ v: '\uFF5E' }, { v: { $lt: '😀' } })).toBe(true); // code point order, not UTF-16 order
    expect(m({ v: [[1]] }, { v: 1 })).toBe(false);
    expect(m({ a: [{ v: 1 }] }, { 'a.v': 1 })).toBe(false); // paths do not traverse arrays
  });

  it('given an indexed field, when filtering by equality, range or $in on it, then the query plan searches the expression index', () => {
    const db = new Database(file, { readonly: true });
    try {
      const plan = (filter: Filter) => {
        const params: unknown[] = [];
        const where = filterToSql(compileFilter(filter), params);
        return (
          db.prepare(`EXPLAIN QUERY PLAN SELECT doc FROM "rs_agree" WHERE ${where}`).all(...params) as Array<{
            detail: string;
          }>
        )
          .map((r) => r.detail)
          .join(' | ');
      };
      expect(plan({ v: 'a' })).toMatch(/SEARCH rs_agree USING INDEX rs_agree__v_1_\w+ \(<expr>=\?\)/);
      expect(plan({ v: 1 })).toMatch(/USING INDEX rs_agree__v_1_\w+ \(<expr>=\?\)/);
      expect(plan({ v: { $in: ['a', 'b'] } })).toMatch(/USING INDEX rs_agree__v_1_\w+ \(<expr>=\?\)/);
      expect(plan({ v: { $gt: 1 } })).toMatch(/USING INDEX rs_agree__v_1_\w+ \(<expr>>\? AND <expr><\?\)/);
      expect(plan({ v: 'a' })).not.toMatch(/SCAN rs_agree/);
      expect(plan({ 'o.v': 'a' })).toMatch(/SCAN rs_agree/); // not indexed
    } finally {
      db.close();
    }
  });

  it('given a file store, then it runs in WAL mode with synchronous=NORMAL', () => {
    const db = new Database(file, { readonly: true });
    try {
      expect(db.pragma('journal_mode', { simple: true })).toBe('wal');
    } finally {
      db.close();
    }
    const s = (store as unknown as { db: Database.Database }).db;
    expect(s.pragma('synchronous', { simple: true })).toBe(1);
  });

  it('given a store reopened on the same file, then documents and unique indexes are still there', async () => {
    const f = join(dir, 'reopen.db');
    const a = new SqliteReadStore(f);
    await a.ensureCollection({ name: 'users', indexes: [{ fields: { email: 1 }, unique: true }] });
    await a.insert('users', { _id: 'u1', email: 'ada@example.com' });
    await a.close();
    const b = new SqliteReadStore(f);
    expect(await b.get('users', 'u1')).toEqual({ _id: 'u1', email: 'ada@example.com' });
    await expect(b.insert('users', { _id: 'u2', email: 'ada@example.com' })).rejects.toMatchObject({
      name: 'DuplicateKeyError',
    });
    await b.close();
  });

  it('given two stores on one file, when both update one document, then no update is lost', async () => {
    const f = join(dir, 'two.db');
    const a = new SqliteReadStore(f);
    const b = new SqliteReadStore(f);
    await a.ensureCollection({ name: 'counters' });
    await Promise.all(
      Array.from({ length: 100 }, (_, i) =>
        (i % 2 ? a : b).update('counters', 'c', { $inc: { n: 1 } }, { upsert: true }),
      ),
    );
    expect(await a.get('counters', 'c')).toEqual({ _id: 'c', n: 100 });
    await a.close();
    await b.close();
  });
});
