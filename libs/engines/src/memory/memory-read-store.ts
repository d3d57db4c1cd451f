import {
  CollectionSpec,
  Document,
  DuplicateKeyError,
  Filter,
  FindOptions,
  Page,
  ReadStore,
  UpdateOp,
  UpdateOptions,
  UpdateResult,
  UpdateSpec,
} from '@purser/core';
import { CompiledField, compileFilter, matchesFilter } from '../query/filter';
import { compileFind, inOrderOfIds, pageOf } from '../query/find';
import { CompiledOp, applyUpdate, buildInsertDocument, compileOp, compileOps } from '../query/update';
import { compareSortValues, sortValues } from '../query/sort';
import { cursorValues, encodeCursor } from '../query/cursor';
import {
  IndexField,
  documentRows,
  indexFields,
  indexName,
  validateArray,
  validateCollectionName,
  validateCollectionSpec,
  validateDocument,
} from '../query/schema';
import { MATCHED, NOT_MATCHED, UPSERTED, attemptEach, resultsOrThrow } from '../query/results';
import { getPath, toJson } from '../query/values';

interface UniqueIndex {
  name: string;
  fields: IndexField[];
  /** Key of the indexed values → the _id of the document holding them. */
  owners: Map<string, string>;
}

interface MemoryCollection {
  name: string;
  docs: Map<string, Document>;
  unique: UniqueIndex[];
}

/** The unique key of a document, or undefined when a field is missing or null (then it is not constrained). */
function uniqueKey(doc: Document, fields: readonly IndexField[]): string | undefined {
  const values: unknown[] = [];
  for (const f of fields) {
    const v = getPath(doc, f.segs);
    if (v === undefined || v === null) return undefined;
    values.push(v);
  }
  return JSON.stringify(values); // type-strict: 1, "1" and true are three keys
}

/** A stored document as JSON holds it: a deep copy of what came in, sharing nothing with the caller. */
function normalized(doc: unknown): Document {
  return JSON.parse(toJson(doc)) as Document;
}

function clash(collection: string, index: string): DuplicateKeyError {
  return new DuplicateKeyError(`duplicate key in ${collection} (unique index ${index})`, [
    { problem: 'unique index clash' },
  ]);
}

/**
 * The read store in memory: documents in maps, evaluated by the engine-neutral query code (the same filter matcher,
 * update application, sort order and cursors as the other adapters), passing the read-store contract suite. Made
 * for tests (projection unit tests need no database); nothing survives the process.
 *
 * - Documents are deep-copied in (through JSON, so they hold what SQLite or MongoDB would store) and out: a caller
 *   changing an object it passed or got back changes nothing stored.
 * - Every call runs to completion without yielding, so each update is atomic and calls apply in the order made.
 * - An update is applied to a copy and stored only when it succeeded whole (a type mismatch changes nothing).
 * - Unique indexes do not constrain documents where a field is missing or null; other indexes are only validated.
 *   insertMany is all-or-nothing when a unique index clashes, as on SQLite.
 * - Sort order: null/missing < numbers < strings (binary) < objects < arrays < booleans (MongoDB's order of types).
 */
export class MemoryReadStore implements ReadStore {
  readonly name = 'memory';
  private readonly collections = new Map<string, MemoryCollection>();

  async ensureCollection(spec: CollectionSpec): Promise<void> {
    validateCollectionSpec(spec);
    const indexes = (spec.indexes ?? []).map((idx) => ({
      name: indexName(idx),
      fields: indexFields(idx),
      unique: idx.unique === true,
    }));
    const c = this.collection(spec.name, true)!;
    const unique: UniqueIndex[] = [];
    for (const idx of indexes) {
      if (!idx.unique) continue;
      const owners = new Map<string, string>();
      for (const [id, doc] of c.docs) {
        const key = uniqueKey(doc, idx.fields);
        if (key === undefined) continue;
        if (owners.has(key))
          throw new DuplicateKeyError(
            `cannot create unique index ${idx.name} on ${spec.name}: duplicate values`,
          );
        owners.set(key, id);
      }
      unique.push({ name: idx.name, fields: idx.fields, owners });
    }
    // The declared indexes are the collection's indexes: one no longer declared no longer constrains.
    c.unique = unique;
  }

  async dropCollection(name: string): Promise<void> {
    validateCollectionName(name);
    this.collections.delete(name);
  }

  async get<T extends Document = Document>(collection: string, id: string): Promise<T | null> {
    const c = this.collection(collection, false);
    if (!c || typeof id !== 'string') return null;
    const doc = c.docs.get(id);
    return doc === undefined ? null : (structuredClone(doc) as T);
  }

  async getMany<T extends Document = Document>(collection: string, ids: string[]): Promise<T[]> {
    const c = this.collection(collection, false);
    validateArray(ids, 'ids');
    if (!c) return [];
    return inOrderOfIds(ids, (id) => {
      const doc = typeof id === 'string' ? c.docs.get(id) : undefined;
      return doc === undefined ? undefined : (structuredClone(doc) as T);
    });
  }

  async find<T extends Document = Document>(
    collection: string,
    filter: Filter,
    options: FindOptions = {},
  ): Promise<Page<T>> {
    const { filter: compiled, keys, limit, after } = compileFind(filter, options);
    const c = this.collection(collection, false);
    if (!c) return { items: [], nextCursor: null };
    const rows: Array<{ doc: Document; values: unknown[] }> = [];
    for (const doc of c.docs.values()) {
      if (!matchesFilter(doc, compiled)) continue;
      const values = sortValues(doc, keys);
      if (after && compareSortValues(keys, values, after) <= 0) continue;
      rows.push({ doc, values });
    }
    rows.sort((a, b) => compareSortValues(keys, a.values, b.values));
    return pageOf(
      rows,
      limit,
      (r) => structuredClone(r.doc) as T,
      (last) => encodeCursor(keys, cursorValues(last.doc, keys)),
    );
  }

  async count(collection: string, filter: Filter): Promise<number> {
    const compiled = compileFilter(filter);
    const c = this.collection(collection, false);
    if (!c) return 0;
    let n = 0;
    for (const doc of c.docs.values()) if (matchesFilter(doc, compiled)) n++;
    return n;
  }

  async insert(collection: string, doc: Document): Promise<void> {
    const id = validateDocument(doc);
    const next = normalized(doc);
    const c = this.collection(collection, true)!;
    if (c.docs.has(id))
      throw new DuplicateKeyError(`duplicate key in ${collection} (_id)`, [
        { field: '_id', problem: 'duplicate key' },
      ]);
    this.write(c, id, undefined, next);
  }

  async insertMany(collection: string, docs: Document[]): Promise<{ inserted: number }> {
    const rows = documentRows(docs, normalized);
    if (rows.length === 0) return { inserted: 0 };
    const c = this.collection(collection, true)!;
    const inserted: string[] = [];
    try {
      for (const [id, next] of rows) {
        if (c.docs.has(id)) continue;
        this.write(c, id, undefined, next);
        inserted.push(id);
      }
    } catch (e) {
      for (const id of inserted) this.remove(c, id);
      throw e;
    }
    return { inserted: inserted.length };
  }

  async update(
    collection: string,
    id: string,
    update: UpdateSpec,
    options: UpdateOptions = {},
  ): Promise<UpdateResult> {
    const op = compileOp(id, update, options);
    return this.updateOne(this.collection(collection, true)!, op);
  }

  async bulkUpdate(collection: string, ops: UpdateOp[]): Promise<UpdateResult[]> {
    const compiled = compileOps(ops);
    if (compiled.length === 0) return [];
    const c = this.collection(collection, true)!;
    return resultsOrThrow(attemptEach(compiled, (op) => this.updateOne(c, op)));
  }

  async delete(collection: string, id: string, guard?: Filter): Promise<boolean> {
    const g: CompiledField[] = compileFilter(guard, 'guard');
    const c = this.collection(collection, false);
    if (!c || typeof id !== 'string') return false;
    const doc = c.docs.get(id);
    if (doc === undefined || (g.length > 0 && !matchesFilter(doc, g))) return false;
    this.remove(c, id);
    return true;
  }

  async close(): Promise<void> {
    this.collections.clear();
  }

  private updateOne(c: MemoryCollection, { id, update: u, options: o }: CompiledOp): UpdateResult {
    const current = c.docs.get(id);
    if (current !== undefined) {
      if (o.guard.length > 0 && !matchesFilter(current, o.guard)) return NOT_MATCHED;
      const work = structuredClone(current);
      applyUpdate(work, u, false);
      this.write(c, id, current, normalized(work));
      return MATCHED;
    }
    if (!o.upsert) return NOT_MATCHED;
    this.write(c, id, undefined, normalized(buildInsertDocument(id, u)));
    return UPSERTED;
  }

  /** Stores `next` in place of `previous`, after checking every unique index (a clash stores nothing). */
  private write(c: MemoryCollection, id: string, previous: Document | undefined, next: Document): void {
    const keys = c.unique.map((idx) => {
      const key = uniqueKey(next, idx.fields);
      if (key !== undefined) {
        const owner = idx.owners.get(key);
        if (owner !== undefined && owner !== id) throw clash(c.name, idx.name);
      }
      return key;
    });
    c.unique.forEach((idx, i) => {
      const old = previous === undefined ? undefined : uniqueKey(previous, idx.fields);
      if (old === keys[i]) return;
      if (old !== undefined) idx.owners.delete(old);
      if (keys[i] !== undefined) idx.owners.set(keys[i]!, id);
    });
    c.docs.set(id, next);
  }

  private remove(c: MemoryCollection, id: string): void {
    const doc = c.docs.get(id);
    if (doc === undefined) return;
    for (const idx of c.unique) {
      const key = uniqueKey(doc, idx.fields);
      if (key !== undefined && idx.owners.get(key) === id) idx.owners.delete(key);
    }
    c.docs.delete(id);
  }

  private collection(name: string, create: boolean): MemoryCollection | undefined {
    const cached = this.collections.get(name);
    if (cached) return cached;
    validateCollectionName(name);
    if (!create) return undefined;
    const c: MemoryCollection = { name, docs: new Map(), unique: [] };
    this.collections.set(name, c);
    return c;
  }
}
