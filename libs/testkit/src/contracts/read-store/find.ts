import { Document, Filter, ReadStore, ValidationError } from '@purser/core';
import { ReadStoreContractContext } from './context';

/** The read-store contract, part: find and count: the filter operators. */
export function readStoreFind(ctx: ReadStoreContractContext): void {
  let store: ReadStore;
  beforeAll(() => {
    store = ctx.store();
  });
  const { fresh, ids } = ctx;

  describe('find', () => {
    const seed: Document[] = [
      {
        _id: 'a',
        kind: 'x',
        n: 1,
        s: 'apple',
        tags: ['red', 'green'],
        nested: { level: 1, name: 'p' },
        flag: true,
      },
      {
        _id: 'b',
        kind: 'y',
        n: 2,
        s: 'banana',
        tags: ['yellow'],
        nested: { level: 2, name: 'q' },
        flag: false,
      },
      { _id: 'c', kind: 'x', n: 3, s: 'cherry', tags: [], nested: { level: 3 }, maybe: null },
      { _id: 'd', kind: 'z', n: 4.5, s: 'Date', tags: ['red'], scores: [5, 50] },
      { _id: 'e', kind: 'y', s: '10', tags: 'red', maybe: 'here' },
      { _id: 'f', kind: 'x', n: 10, s: 'zürich', nested: { level: '2' }, flag: 1 },
    ];
    let c: string;

    beforeAll(async () => {
      c = fresh('find');
      await store.ensureCollection({
        name: c,
        indexes: [{ fields: { kind: 1 } }, { fields: { 'nested.level': 1, n: -1 } }, { fields: { tags: 1 } }],
      });
      for (const d of seed) await store.insert(c, d);
    });

    const cases: Array<[string, Filter, string[]]> = [
      ['an empty filter', {}, ['a', 'b', 'c', 'd', 'e', 'f']],
      ['string equality', { kind: 'x' }, ['a', 'c', 'f']],
      ['number equality', { n: 1 }, ['a']],
      ['number equality, never matching a boolean', { flag: 1 }, ['f']],
      ['number equality with $eq', { n: { $eq: 10 } }, ['f']],
      ['boolean equality (never matching the number 1)', { flag: true }, ['a']],
      ['$ne, which also matches missing fields', { kind: { $ne: 'x' } }, ['b', 'd', 'e']],
      ['$ne on a sometimes-missing field', { n: { $ne: 2 } }, ['a', 'c', 'd', 'e', 'f']],
      ['$in', { kind: { $in: ['y', 'z'] } }, ['b', 'd', 'e']],
      ['$in mixing types', { s: { $in: ['10', 'apple', 10] } }, ['a', 'e']],
      ['$nin, which also matches missing fields', { n: { $nin: [1, 2, 3] } }, ['d', 'e', 'f']],
      ['$in with an empty list', { kind: { $in: [] } }, []],
      ['a number range', { n: { $gt: 1, $lte: 4.5 } }, ['b', 'c', 'd']],
      ['$gte on numbers, ignoring strings', { n: { $gte: 3 } }, ['c', 'd', 'f']],
      ['$lt on numbers, ignoring missing', { n: { $lt: 3 } }, ['a', 'b']],
      ['a string range in binary order (upper case first)', { s: { $gte: 'D', $lt: 'b' } }, ['a', 'd']],
      ['$gt on strings, ignoring numbers', { s: { $gt: 'cherry' } }, ['f']],
      ['$lt on strings (digits sort before letters)', { s: { $lt: 'a' } }, ['d', 'e']],
      ['$exists true, which includes null values', { maybe: { $exists: true } }, ['c', 'e']],
      ['$exists false', { n: { $exists: false } }, ['e']],
      ['null equality, which matches null and missing', { maybe: null }, ['a', 'b', 'c', 'd', 'f']],
      ['$ne null', { maybe: { $ne: null } }, ['e']],
      ['a dotted path', { 'nested.level': 2 }, ['b']],
      ['a dotted path range (the string "2" is not a number)', { 'nested.level': { $gte: 2 } }, ['b', 'c']],
      ['a dotted path that exists', { 'nested.name': { $exists: true } }, ['a', 'b']],
      ['a missing dotted path', { 'nested.name': { $exists: false } }, ['c', 'd', 'e', 'f']],
      ['array element equality', { tags: 'red' }, ['a', 'd', 'e']],
      ['array element $in', { tags: { $in: ['green', 'yellow'] } }, ['a', 'b']],
      ['array element $ne (no element equal)', { tags: { $ne: 'red' } }, ['b', 'c', 'f']],
      ['array element $nin', { tags: { $nin: ['red', 'yellow'] } }, ['c', 'f']],
      ['an array element in a range', { scores: { $gt: 10 } }, ['d']],
      [
        'several fields, AND-ed',
        { kind: 'x', n: { $gte: 2 }, 'nested.level': { $exists: true } },
        ['c', 'f'],
      ],
      ['_id equality', { _id: 'b' }, ['b']],
      ['_id $in and range', { _id: { $in: ['a', 'c', 'e', 'zz'], $gt: 'a' } }, ['c', 'e']],
      ['_id $nin', { _id: { $nin: ['a', 'b'] } }, ['c', 'd', 'e', 'f']],
    ];

    it.each(cases)(
      'given mixed documents, when filtering with %s, then exactly the matching ones come back',
      async (_name, filter, expected) => {
        const page = await store.find(c, filter, { limit: 50 });
        expect(ids(page.items)).toEqual(expected);
        expect(page.nextCursor).toBeNull();
        expect(await store.count(c, filter)).toBe(expected.length);
      },
    );

    it('given a bad filter, then ValidationError', async () => {
      await expect(store.find(c, { $where: 'true' } as unknown as Filter)).rejects.toBeInstanceOf(
        ValidationError,
      );
      await expect(store.find(c, { n: { $regex: 'x' } } as unknown as Filter)).rejects.toBeInstanceOf(
        ValidationError,
      );
      await expect(store.find(c, { 'a..b': 1 })).rejects.toBeInstanceOf(ValidationError);
      await expect(store.find(c, { n: { $in: 'x' } } as unknown as Filter)).rejects.toBeInstanceOf(
        ValidationError,
      );
      await expect(store.find(c, { n: { a: 1 } } as unknown as Filter)).rejects.toBeInstanceOf(
        ValidationError,
      );
      await expect(store.count(c, { n: [1] } as unknown as Filter)).rejects.toBeInstanceOf(ValidationError);
      await expect(store.find(c, {}, { limit: 0 })).rejects.toBeInstanceOf(ValidationError);
      await expect(store.find(c, {}, { limit: 10_001 })).rejects.toBeInstanceOf(ValidationError);
      await expect(store.find(c, {}, { sort: { n: 2 as 1 } })).rejects.toBeInstanceOf(ValidationError);
    });
  });
}
