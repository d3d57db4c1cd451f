import { Document, CollectionSpec, IndexSpec, ValidationError } from '@purser/core';
import { invalid, isPlainObject, splitPath } from './values';

/** Names and ids every adapter accepts: collection names, document ids, index names. */

const COLLECTION_NAME = /^[a-zA-Z_][a-zA-Z0-9_]{0,62}$/;

export function validateCollectionName(name: unknown): string {
  if (typeof name !== 'string' || !COLLECTION_NAME.test(name)) {
    throw new ValidationError(`invalid collection name ${JSON.stringify(name)}`, [
      { field: 'collection', problem: 'must match ^[a-zA-Z_][a-zA-Z0-9_]{0,62}$' },
    ]);
  }
  return name;
}

export function validateId(id: unknown, field = '_id'): string {
  if (typeof id !== 'string' || id.length === 0 || id.length > 1024) {
    throw new ValidationError(`invalid ${field} ${JSON.stringify(id)}`, [
      { field, problem: 'must be a non-empty string' },
    ]);
  }
  return id;
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

export interface IndexField {
  path: string;
  segs: string[];
  dir: 1 | -1;
}

/** An index's fields in order, each path validated and each direction 1 or -1. */
export function indexFields(spec: IndexSpec): IndexField[] {
  return Object.entries(spec.fields).map(([path, dir]) => {
    if (dir !== 1 && dir !== -1) throw invalid('index', path, 'direction must be 1 or -1');
    return { path, segs: splitPath(path), dir };
  });
}

/** A whole document: an object with a valid _id. Answers the _id. */
export function validateDocument(doc: unknown): string {
  if (!isPlainObject(doc))
    throw new ValidationError('document must be an object', [{ field: 'doc', problem: 'not an object' }]);
  return validateId(doc._id);
}

/** An argument that must be an array (`ids`, `docs`, `ops`). */
export function validateArray(value: unknown, field: string): void {
  if (!Array.isArray(value))
    throw new ValidationError(`${field} must be an array`, [{ field, problem: 'not an array' }]);
}

export function validateCollectionSpec(spec: unknown): asserts spec is CollectionSpec {
  if (!isPlainObject(spec))
    throw new ValidationError('collection spec must be an object', [
      { field: 'spec', problem: 'not an object' },
    ]);
}

/** insertMany's documents, validated, each as [its _id, what the adapter stores]. */
export function documentRows<V>(docs: Document[], encode: (doc: Document) => V): Array<readonly [string, V]> {
  validateArray(docs, 'docs');
  return docs.map((doc) => [validateDocument(doc), encode(doc)] as const);
}
