import { Document, Scalar, ValidationError } from '@purser/core';
import { isPlainObject, isScalar, getPath } from './values';
import { SortKey } from './sort';

/* Opaque keyset cursors, encoded and checked the same way by every adapter. */

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

/** The cursor values of a page's last document: scalars only (MongoDB orders arrays by their least/greatest element). */
export function cursorValues(doc: Document, keys: readonly SortKey[]): Scalar[] {
  return keys.map((k) => {
    const v = getPath(doc, k.segs);
    if (v === undefined || v === null) return null;
    if (typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean') return v;
    throw new ValidationError(`cannot page on ${k.path}: it holds an array or object`, [
      { field: k.path, problem: 'sort fields must hold scalars' },
    ]);
  });
}
