export const READ_STORE = Symbol('ReadStore');

export type Scalar = string | number | boolean | null;

export interface FieldCondition {
  $eq?: Scalar;
  $ne?: Scalar;
  $in?: Scalar[];
  $nin?: Scalar[];
  $gt?: Scalar;
  $gte?: Scalar;
  $lt?: Scalar;
  $lte?: Scalar;
  $exists?: boolean;
}

/**
 * Equality, $in and range filters on (dotted) fields, implicitly AND-ed.
 * A scalar value means equality. Comparisons of strings are binary (code point) order.
 * Array-valued fields match equality / $in when any element matches (as in MongoDB).
 * Further MongoDB semantics every adapter follows: comparisons are type-bracketed (a number never equals or
 * compares with a string or a boolean); `null` matches null and missing fields; $ne / $nin also match missing
 * fields; on an array field each operator is tested on its own (any element). Dotted paths address nested
 * objects and do not traverse arrays. Path segments hold letters, digits, `_` and `-`.
 */
export type Filter = Record<string, Scalar | FieldCondition>;

export type SortSpec = Record<string, 1 | -1>;

export interface FindOptions {
  /**
   * Default { _id: 1 }. _id is always appended as the final tie-breaker. Order: null/missing < numbers < strings
   * (binary). Sort on scalar fields; booleans, objects and arrays order differently per engine.
   */
  sort?: SortSpec;
  /** Default 100, at most 10,000. */
  limit?: number;
  /** Opaque cursor from a previous page's nextCursor, with the same filter and sort. */
  cursor?: string | null;
}

export interface Page<T> {
  items: T[];
  nextCursor: string | null;
}

export type Document = { _id: string } & Record<string, any>;

/**
 * Single-document atomic update. Fields are dotted paths. $push appends one value or { $each: [...] }.
 * At least one field; no two paths may overlap; _id is immutable; $inc needs a number (also in the document).
 * Values are JSON (no nested arrays: FerretDB refuses arrays directly inside arrays). Invalid: ValidationError.
 */
export interface UpdateSpec {
  $set?: Record<string, unknown>;
  $setOnInsert?: Record<string, unknown>;
  $unset?: Record<string, true | 1 | ''>;
  $inc?: Record<string, number>;
  $max?: Record<string, Scalar>;
  $min?: Record<string, Scalar>;
  $push?: Record<string, unknown>;
}

export interface UpdateOptions {
  /** Insert the document when none has this _id. The new document holds only _id and the update's fields. */
  upsert?: boolean;
  /** Conditions the existing document must match for the update to apply. Never copied into an upsert. */
  guard?: Filter;
}

export interface UpdateResult {
  /** A document matched (_id and guard) and the update was applied to it. */
  matched: boolean;
  /** A new document was inserted. */
  upserted: boolean;
}

export interface UpdateOp {
  id: string;
  update: UpdateSpec;
  options?: UpdateOptions;
}

export interface IndexSpec {
  /** Fields in order, 1 ascending, -1 descending. A unique index does not constrain documents lacking the field. */
  fields: SortSpec;
  unique?: boolean;
  name?: string;
}

export interface CollectionSpec {
  name: string;
  /**
   * Fields that may hold arrays (equality, $in and ranges on them match any element). When given, every other field
   * holds scalars, which lets an adapter answer sorted, filtered queries straight from an index. When omitted, any
   * field may hold an array. A document that breaks the declaration may be missed by filters.
   */
  arrays?: string[];
  indexes?: IndexSpec[];
}

/**
 * The read-store port: documents in named collections. No multi-document transactions: every update is
 * atomic on one document, and correctness never depends on several updates landing together.
 * All adapters pass libs/testkit/src/contracts/read-store.contract.ts.
 */
export interface ReadStore {
  readonly name: string;
  /**
   * Creates the collection and its declared indexes if missing, and drops indexes it no longer declares (the spec is
   * the whole list: an index left behind by an older version would cost every write its upkeep). Idempotent.
   */
  ensureCollection(spec: CollectionSpec): Promise<void>;
  /** Removes the collection and all its documents (used by projection rebuilds). */
  dropCollection(name: string): Promise<void>;
  get<T extends Document = Document>(collection: string, id: string): Promise<T | null>;
  getMany<T extends Document = Document>(collection: string, ids: string[]): Promise<T[]>;
  find<T extends Document = Document>(
    collection: string,
    filter: Filter,
    options?: FindOptions,
  ): Promise<Page<T>>;
  count(collection: string, filter: Filter): Promise<number>;
  /** Inserts a whole document; fails with DuplicateKeyError if _id or a unique index clashes. */
  insert(collection: string, doc: Document): Promise<void>;
  /**
   * Inserts whole documents, skipping any whose _id already exists (idempotent: a replayed batch inserts nothing
   * twice). Not a transaction. Answers how many were inserted. A clash on another unique index throws.
   */
  insertMany(collection: string, docs: Document[]): Promise<{ inserted: number }>;
  update(collection: string, id: string, update: UpdateSpec, options?: UpdateOptions): Promise<UpdateResult>;
  /**
   * Independent single-document updates (not a transaction); one result per op, in order; ops on the same
   * document apply in order. If some ops fail (unique clash, type mismatch), the others still apply and the
   * first error is thrown, its details naming the failed op indexes.
   */
  bulkUpdate(collection: string, ops: UpdateOp[]): Promise<UpdateResult[]>;
  /** Deletes the document if it exists and matches the guard. */
  delete(collection: string, id: string, guard?: Filter): Promise<boolean>;
  close(): Promise<void>;
}
