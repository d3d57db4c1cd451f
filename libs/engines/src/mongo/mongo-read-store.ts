import mongoose, { mongo } from 'mongoose';
import {
  CollectionSpec,
  Document,
  DuplicateKeyError,
  Filter,
  FindOptions,
  Page,
  ReadStore,
  Scalar,
  UpdateOp,
  UpdateOptions,
  UpdateResult,
  UpdateSpec,
  ValidationError,
} from '@purser/core';
import { CompiledField, compileFilter } from '../query/filter';
import { compileFind, inOrderOfFound, pageOf } from '../query/find';
import { CompiledOp, CompiledUpdate, buildInsertDocument, compileOp, compileOps } from '../query/update';
import { SortKey } from '../query/sort';
import { cursorValues, encodeCursor } from '../query/cursor';
import { indexName, validateArray, validateCollectionName, validateDocument } from '../query/schema';
import { BulkOutcome, MATCHED, NOT_MATCHED, UPSERTED, resultsOrThrow } from '../query/results';
import { splitPath } from '../query/values';

export interface MongoReadStoreOptions {
  /**
   * Serialise writes to one document inside this process (default true). FerretDB (v1) has no atomic
   * read-modify-write: it reads the document, applies the update in Go and writes it back, so concurrent updates
   * of one document lose each other's changes. Real MongoDB does not need this; turning it off there only helps
   * when many concurrent writes hit the same document.
   */
  serializeDocumentWrites?: boolean;
  /** How many documents bulkUpdate works on at once (default 32). Ops on one document always run in order. */
  bulkConcurrency?: number;
  /** Extra driver options. */
  connectOptions?: mongoose.ConnectOptions;
}

type MongoFilter = Record<string, any>;

/** Guard operators MongoDB never copies into an upserted document (it copies equality conditions only). */
const NEVER_COPIED = new Set(['$ne', '$nin', '$gt', '$gte', '$lt', '$lte', '$exists']);

/** Server error codes that mean "this update cannot apply to this document" (type mismatch, bad path...). */
const INVALID_UPDATE_CODES = new Set([2, 9, 14, 28, 52, 56]);

function errorCode(e: unknown): unknown {
  return (e as { code?: unknown })?.code;
}

/**
 * A unique key clash. MongoDB and FerretDB say 11000 on insert and upsert; FerretDB's SQLite backend reports a
 * clash caused by an update as InternalError (1) "UNIQUE constraint failed".
 */
function isDuplicateKey(e: unknown): boolean {
  const code = errorCode(e);
  return (
    code === 11000 ||
    code === 11001 ||
    (code === 1 && /UNIQUE constraint failed/.test(String((e as Error).message)))
  );
}

const STALE_SCHEMA_INDEX = /SQL logic error: index \S+ already exists/;
const STALE_SCHEMA_RETRIES = 20;

function mapError(e: unknown, collection: string): unknown {
  if (isDuplicateKey(e)) {
    return new DuplicateKeyError(`duplicate key in ${collection}`, [{ problem: 'unique index clash' }]);
  }
  const code = errorCode(e);
  if (typeof code === 'number' && INVALID_UPDATE_CODES.has(code)) {
    return new ValidationError(`update refused by the server: ${(e as Error).message}`, [
      { problem: 'invalid update' },
    ]);
  }
  return e;
}

/** The filter in MongoDB syntax (the port's filter is the MongoDB subset, validated by compileFilter). */
function toMongoFilter(filter: CompiledField[]): MongoFilter {
  const out: MongoFilter = {};
  for (const f of filter) {
    const cond: Record<string, unknown> = {};
    for (const c of f.conds) cond[c.op] = c.value;
    out[f.path] = cond;
  }
  return out;
}

function toMongoUpdate(update: CompiledUpdate): Record<string, Record<string, unknown>> {
  const out: Record<string, Record<string, unknown>> = {};
  for (const s of update.steps) {
    const op = s.op;
    const fields = (out[op] ??= {});
    fields[s.path] = op === '$push' ? { $each: s.each } : op === '$unset' ? '' : s.value;
  }
  return out;
}

/** True when an upsert with this guard can be sent as-is: MongoDB would copy none of its conditions. */
function guardNeverCopied(guard: CompiledField[]): boolean {
  return guard.every(
    (f) =>
      f.path !== '_id' &&
      f.conds.every(
        (c) => NEVER_COPIED.has(c.op) || (c.op === '$in' && new Set(c.value as Scalar[]).size >= 2),
      ),
  );
}

/** The filter "comes after the cursor" for MongoDB's sort order: null/missing < numbers < strings < objects < arrays < booleans. */
function cursorFilter(keys: SortKey[], values: Scalar[]): MongoFilter {
  const disjuncts: MongoFilter[] = [];
  const equal: MongoFilter[] = [];
  keys.forEach((k, i) => {
    const v = values[i];
    const p = k.path;
    let after: MongoFilter | null;
    if (p === '_id') after = { _id: { [k.dir === 1 ? '$gt' : '$lt']: v } };
    else if (k.dir === 1) {
      if (v === null) after = { [p]: { $ne: null } };
      else if (typeof v === 'number')
        after = { $or: [{ [p]: { $gt: v } }, { [p]: { $type: ['string', 'object', 'array', 'bool'] } }] };
      else if (typeof v === 'string')
        after = { $or: [{ [p]: { $gt: v } }, { [p]: { $type: ['object', 'array', 'bool'] } }] };
      else after = { [p]: { $gt: v } };
    } else if (v === null) after = null;
    else if (typeof v === 'number') after = { $or: [{ [p]: { $lt: v } }, { [p]: null }] };
    else if (typeof v === 'string')
      after = { $or: [{ [p]: { $lt: v } }, { [p]: { $type: 'number' } }, { [p]: null }] };
    else
      after = {
        $or: [
          { [p]: { $lt: v } },
          { [p]: { $type: ['number', 'string', 'object', 'array'] } },
          { [p]: null },
        ],
      };
    if (after) disjuncts.push(equal.length ? { $and: [...equal, after] } : after);
    equal.push(v === null ? { [p]: null } : { [p]: { $eq: v } });
  });
  return { $or: disjuncts };
}

/**
 * The read store on MongoDB or FerretDB (v1, SQLite or PostgreSQL backend), through mongoose's connection and
 * the native driver collections (no schemas). Only what FerretDB v1 supports is used: no transactions, no
 * aggregation; counts use the `count` command.
 *
 * - Every single-document update is one `updateOne` keyed by _id plus the guard. An upsert is sent with
 *   `upsert: true` when its guard only holds conditions MongoDB never copies into the new document ($lt, $ne,
 *   $exists...); with an equality guard it is an update followed by an insert of the document built from the
 *   update alone, so guard fields are never copied. A duplicate _id on the insert side means the document exists
 *   and the guard refused it (or a concurrent upsert won): the update is retried once without upsert.
 * - FerretDB v1 loses concurrent updates of one document, so writes to one document are serialised inside this
 *   process (see MongoReadStoreOptions.serializeDocumentWrites). With FerretDB, run one writer process per
 *   collection (projections do).
 * - bulkUpdate needs a result per op, which `bulkWrite` does not report (only totals), so it runs the ops as
 *   single updates, several documents at a time and the ops of one document in order.
 * - Strings compare in binary order (the default "simple" collation). Sort order is MongoDB's:
 *   null/missing < numbers < strings < objects < arrays < booleans; paging needs scalar sort values.
 * - Unique indexes are created sparse, so (as in SqliteReadStore) documents missing the field are not
 *   constrained.
 */
export class MongoReadStore implements ReadStore {
  readonly name = 'mongodb';
  private readonly conn: mongoose.Connection;
  private readonly ready: Promise<mongo.Db>;
  private readonly locks = new Map<string, Promise<void>>();
  private readonly serialize: boolean;
  private readonly bulkConcurrency: number;

  constructor(url: string, options: MongoReadStoreOptions = {}) {
    this.serialize = options.serializeDocumentWrites ?? true;
    this.bulkConcurrency = Math.max(1, Math.floor(options.bulkConcurrency ?? 32));
    this.conn = mongoose.createConnection(url, {
      ignoreUndefined: true,
      autoIndex: false,
      ...options.connectOptions,
    });
    this.ready = this.conn.asPromise().then((c) => c.db as unknown as mongo.Db);
    this.ready.catch(() => undefined); // surfaced by the first call instead
  }

  /** Connects and resolves once the connection is usable. */
  static async connect(url: string, options?: MongoReadStoreOptions): Promise<MongoReadStore> {
    const store = new MongoReadStore(url, options);
    await store.ready;
    return store;
  }

  async ensureCollection(spec: CollectionSpec): Promise<void> {
    validateCollectionName(spec?.name);
    const indexes = (spec.indexes ?? []).map((idx) => {
      const name = indexName(idx);
      const keys: Record<string, 1 | -1> = {};
      for (const [path, dir] of Object.entries(idx.fields)) {
        splitPath(path);
        if (dir !== 1 && dir !== -1)
          throw new ValidationError(`index ${name}: direction must be 1 or -1`, [
            { field: path, problem: 'bad direction' },
          ]);
        keys[path] = dir;
      }
      return { name, keys, unique: idx.unique === true };
    });
    const db = await this.ready;
    try {
      await db.createCollection(spec.name);
    } catch (e) {
      if (errorCode(e) !== 48) throw e; // NamespaceExists
    }
    for (const idx of indexes) {
      for (let attempt = 1; ; attempt++) {
        try {
          await db
            .collection(spec.name)
            .createIndex(
              idx.keys,
              idx.unique ? { name: idx.name, unique: true, sparse: true } : { name: idx.name },
            );
          break;
        } catch (e) {
          // FerretDB's SQLite backend can hand the CREATE INDEX to a pooled connection whose schema predates a drop
          // that just happened (a rebuild drops and recreates its collections while readers are about): SQLite then
          // answers "index ... already exists" for an index that no longer exists. Another attempt lands on a fresh
          // connection and succeeds (reproduced and covered by the read store's integration test). Bounded, and
          // MongoDB's own option-conflict errors are not of this form, so they surface at once.
          if (attempt >= STALE_SCHEMA_RETRIES || !STALE_SCHEMA_INDEX.test(String((e as Error).message)))
            throw mapError(e, spec.name);
          await new Promise((r) => setTimeout(r, 5 * attempt));
        }
      }
    }
    // The declared indexes are the collection's indexes: one no longer declared would cost every write its upkeep.
    const declared = new Set(indexes.map((i) => i.name));
    for (const existing of await db.collection(spec.name).indexes()) {
      const name = existing.name;
      if (!name || name === '_id_' || declared.has(name)) continue;
      try {
        await db.collection(spec.name).dropIndex(name);
      } catch (e) {
        if (errorCode(e) !== 27 && !/index not found/i.test(String((e as Error).message))) throw e; // IndexNotFound
      }
    }
  }

  async dropCollection(name: string): Promise<void> {
    validateCollectionName(name);
    const db = await this.ready;
    try {
      await db.collection(name).drop();
    } catch (e) {
      if (errorCode(e) !== 26 && !/ns not found/i.test(String((e as Error).message))) throw e;
    }
  }

  async get<T extends Document = Document>(collection: string, id: string): Promise<T | null> {
    const c = await this.coll(collection);
    if (typeof id !== 'string') return null;
    return (await c.findOne({ _id: id })) as T | null;
  }

  async getMany<T extends Document = Document>(collection: string, ids: string[]): Promise<T[]> {
    const c = await this.coll(collection);
    validateArray(ids, 'ids');
    const unique = [...new Set(ids.filter((id) => typeof id === 'string'))];
    if (unique.length === 0) return [];
    return inOrderOfFound(unique, (await c.find({ _id: { $in: unique } }).toArray()) as T[]);
  }

  async find<T extends Document = Document>(
    collection: string,
    filter: Filter,
    options: FindOptions = {},
  ): Promise<Page<T>> {
    const { filter: compiled, keys, limit, after } = compileFind(filter, options);
    const c = await this.coll(collection);
    let q = toMongoFilter(compiled);
    if (after) q = { $and: [q, cursorFilter(keys, after)] };
    const docs = (await c
      .find(q, { sort: keys.map((k): [string, 1 | -1] => [k.path, k.dir]), limit: limit + 1 })
      .toArray()) as T[];
    return pageOf(
      docs,
      limit,
      (d) => d,
      (last) => encodeCursor(keys, cursorValues(last, keys)),
    );
  }

  async count(collection: string, filter: Filter): Promise<number> {
    const q = toMongoFilter(compileFilter(filter));
    validateCollectionName(collection);
    const db = await this.ready;
    const res = await db.command({ count: collection, query: q });
    return Number(res.n);
  }

  async insert(collection: string, doc: Document): Promise<void> {
    validateDocument(doc);
    const c = await this.coll(collection);
    try {
      await c.insertOne({ ...doc });
    } catch (e) {
      throw mapError(e, collection);
    }
  }

  async insertMany(collection: string, docs: Document[]): Promise<{ inserted: number }> {
    validateArray(docs, 'docs');
    if (docs.length === 0) return { inserted: 0 };
    for (const doc of docs) validateDocument(doc);
    const c = await this.coll(collection);
    // Skip documents whose _id exists; any other unique clash is an error.
    const existing = new Set(
      (
        await c.find({ _id: { $in: docs.map((d) => d._id) } } as any, { projection: { _id: 1 } }).toArray()
      ).map((d: any) => d._id as string),
    );
    const fresh = docs.filter((d) => !existing.has(d._id)).map((d) => ({ ...d }));
    if (fresh.length === 0) return { inserted: 0 };
    try {
      const res = await c.insertMany(fresh as any[], { ordered: false });
      return { inserted: res.insertedCount };
    } catch (e) {
      const writeErrors = ((e as any)?.writeErrors ?? []) as Array<{
        code?: number;
        err?: { errmsg?: string };
      }>;
      const inserted = (e as any)?.result?.insertedCount ?? (e as any)?.insertedCount;
      // A concurrent insert of the same _id is the only clash we skip.
      if (writeErrors.length && typeof inserted === 'number') {
        const ids = await c
          .find({ _id: { $in: fresh.map((d) => d._id) } } as any, { projection: { _id: 1 } })
          .toArray();
        if (ids.length === fresh.length) return { inserted };
      }
      throw mapError(e, collection);
    }
  }

  async update(
    collection: string,
    id: string,
    update: UpdateSpec,
    options: UpdateOptions = {},
  ): Promise<UpdateResult> {
    const op = compileOp(id, update, options);
    const c = await this.coll(collection);
    return this.locked(collection, id, () => this.updateUnlocked(c, op));
  }

  async bulkUpdate(collection: string, ops: UpdateOp[]): Promise<UpdateResult[]> {
    const prepared = compileOps(ops);
    if (prepared.length === 0) return [];
    const c = await this.coll(collection);
    const groups = new Map<string, number[]>();
    prepared.forEach((op, i) => {
      const g = groups.get(op.id);
      if (g) g.push(i);
      else groups.set(op.id, [i]);
    });
    const queue = [...groups.values()];
    const outcomes: BulkOutcome[] = new Array(prepared.length);
    const worker = async () => {
      for (let g = queue.shift(); g; g = queue.shift()) {
        for (const i of g) {
          const op = prepared[i];
          try {
            outcomes[i] = await this.locked(collection, op.id, () => this.updateUnlocked(c, op));
          } catch (e) {
            outcomes[i] = { error: e };
          }
        }
      }
    };
    await Promise.all(Array.from({ length: Math.min(this.bulkConcurrency, queue.length) }, worker));
    return resultsOrThrow(outcomes);
  }

  async delete(collection: string, id: string, guard?: Filter): Promise<boolean> {
    const g = compileFilter(guard, 'guard');
    const c = await this.coll(collection);
    if (typeof id !== 'string') return false;
    return this.locked(collection, id, async () => {
      const res = await c.deleteOne(this.byIdAndGuard(id, g));
      return res.deletedCount > 0;
    });
  }

  async close(): Promise<void> {
    await this.ready.catch(() => undefined);
    await this.conn.close();
  }

  private async updateUnlocked(c: mongo.Collection<Document>, op: CompiledOp): Promise<UpdateResult> {
    const q = this.byIdAndGuard(op.id, op.options.guard);
    const u = toMongoUpdate(op.update);
    const plain = async (): Promise<UpdateResult> => {
      try {
        return (await c.updateOne(q, u)).matchedCount > 0 ? MATCHED : NOT_MATCHED;
      } catch (e) {
        throw mapError(e, c.collectionName);
      }
    };
    /** The insert side of an upsert clashed: the document exists now (guard refused, or a concurrent upsert won) or a unique index clashed. */
    const afterClash = async (): Promise<UpdateResult> => {
      const retried = await plain();
      if (retried.matched) return retried;
      if (await c.findOne({ _id: op.id }, { projection: { _id: 1 } })) return NOT_MATCHED;
      throw new DuplicateKeyError(`duplicate key in ${c.collectionName}`, [
        { problem: 'unique index clash' },
      ]);
    };
    if (!op.options.upsert) return plain();
    if (guardNeverCopied(op.options.guard)) {
      try {
        const res = await c.updateOne(q, u, { upsert: true });
        return res.upsertedCount > 0 ? UPSERTED : res.matchedCount > 0 ? MATCHED : NOT_MATCHED;
      } catch (e) {
        if (isDuplicateKey(e)) return afterClash();
        throw mapError(e, c.collectionName);
      }
    }
    const first = await plain();
    if (first.matched) return first;
    try {
      await c.insertOne(buildInsertDocument(op.id, op.update));
      return UPSERTED;
    } catch (e) {
      if (isDuplicateKey(e)) return afterClash();
      throw mapError(e, c.collectionName);
    }
  }

  private byIdAndGuard(id: string, guard: CompiledField[]): MongoFilter {
    if (guard.length === 0) return { _id: id };
    const g = toMongoFilter(guard);
    return '_id' in g ? { $and: [{ _id: id }, g] } : { _id: id, ...g };
  }

  private async coll(name: string): Promise<mongo.Collection<Document>> {
    validateCollectionName(name);
    return (await this.ready).collection<Document>(name);
  }

  /** Runs fn after every earlier write to the same document (started by this process) has finished. */
  private async locked<T>(collection: string, id: string, fn: () => Promise<T>): Promise<T> {
    if (!this.serialize) return fn();
    const key = `${collection}\u0000${id}`;
    const prev = this.locks.get(key);
    let release!: () => void;
    const mine = new Promise<void>((r) => (release = r));
    this.locks.set(key, mine);
    try {
      if (prev) await prev;
      return await fn();
    } finally {
      release();
      if (this.locks.get(key) === mine) this.locks.delete(key);
    }
  }
}
