import Database from 'better-sqlite3';
import {
  CollectionSpec,
  Document,
  DuplicateKeyError,
  Filter,
  FindOptions,
  IndexSpec,
  Page,
  ReadStore,
  Scalar,
  UpdateOp,
  UpdateOptions,
  UpdateResult,
  UpdateSpec,
} from '@purser/core';
import { CompiledField, compileFilter, matchesFilter } from '../query/filter';
import { compileFind, inOrderOfFound, pageOf } from '../query/find';
import { CompiledOp, applyUpdate, buildInsertDocument, compileOp, compileOps } from '../query/update';
import { encodeCursor } from '../query/cursor';
import {
  documentRows,
  indexFields,
  indexName,
  validateArray,
  validateCollectionName,
  validateCollectionSpec,
  validateDocument,
} from '../query/schema';
import { BulkOutcome, MATCHED, NOT_MATCHED, UPSERTED, attemptEach, resultsOrThrow } from '../query/results';
import { toJson } from '../query/values';
import { tuneForWrites } from './pragmas';
import { SqliteCheckpointer, checkpointerFor } from './checkpointer';
import { Params, fieldExpr, filterToSql, jsonPathLiteral } from './sql-filter';
import { cursorToSql } from './sql-cursor';

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

function isUniqueViolation(e: unknown): boolean {
  const code = (e as { code?: unknown })?.code;
  return code === 'SQLITE_CONSTRAINT_UNIQUE' || code === 'SQLITE_CONSTRAINT_PRIMARYKEY';
}

/**
 * Index columns. A non-unique index also ends with the id: find() always sorts by _id last, and a rowid table's
 * secondary index holds the rowid, not the id, so without it every sorted, paged query would need a full sort.
 */
function indexColumns(spec: IndexSpec): string {
  const cols = indexFields(spec).map((f) => `${fieldExpr(f.segs)} ${f.dir === 1 ? 'ASC' : 'DESC'}`);
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
 * Semantics (shared with MongoReadStore, checked by libs/testkit/src/contracts/read-store.contract.ts):
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
  private readonly updateTx: (c: Collection, op: CompiledOp) => UpdateResult;
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
    this.updateTx = this.db.transaction((c: Collection, op: CompiledOp) => this.updateOne(c, op)).immediate;
    // A refused op (unique clash, type mismatch) is rolled back alone; anything else aborts the batch.
    this.bulkTx = this.db.transaction((c: Collection, ops: CompiledOp[]) =>
      attemptEach(ops, (op) => this.updateOne(c, op)),
    ).immediate;
    this.deleteTx = this.db.transaction((c: Collection, id: string, guard: CompiledField[]) => {
      const raw = c.get.get(id);
      if (raw === undefined || !matchesFilter(JSON.parse(raw), guard)) return false;
      return c.remove.run(id).changes > 0;
    }).immediate;
  }

  async ensureCollection(spec: CollectionSpec): Promise<void> {
    validateCollectionSpec(spec);
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
    validateArray(ids, 'ids');
    if (!c || ids.length === 0) return [];
    const found = c.getMany.all(JSON.stringify(ids)).map((raw) => JSON.parse(raw) as T);
    return inOrderOfFound(ids, found);
  }

  async find<T extends Document = Document>(
    collection: string,
    filter: Filter,
    options: FindOptions = {},
  ): Promise<Page<T>> {
    const { filter: compiled, keys, limit, after } = compileFind(filter, options);
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
    return pageOf(
      rows,
      limit,
      (r) => JSON.parse(r[0] as string) as T,
      (last) => encodeCursor(keys, last.slice(1) as Scalar[]),
    );
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
    const id = validateDocument(doc);
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
    const op = compileOp(id, update, options);
    return this.updateTx(this.collection(collection, true)!, op);
  }

  async insertMany(collection: string, docs: Document[]): Promise<{ inserted: number }> {
    const rows = documentRows(docs, toJson);
    if (rows.length === 0) return { inserted: 0 };
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
    const compiled = compileOps(ops);
    if (compiled.length === 0) return [];
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
  private updateOne(c: Collection, { id, update: u, options: o }: CompiledOp): UpdateResult {
    if (u.topLevelSetsOnly) {
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

function duplicate(collection: string, e: unknown): DuplicateKeyError {
  const onId = (e as { code?: unknown }).code === 'SQLITE_CONSTRAINT_PRIMARYKEY';
  return new DuplicateKeyError(`duplicate key in ${collection}${onId ? ' (_id)' : ''}`, [
    onId ? { field: '_id', problem: 'duplicate key' } : { problem: 'unique index clash' },
  ]);
}
