import {
  CollectionSpec,
  Document,
  DuplicateKeyError,
  Filter,
  ReadStore,
  SortSpec,
  UpdateOptions,
  UpdateResult,
  UpdateSpec,
  ValidationError,
} from '@purser/core';
import { uniqueSuffix } from '../engines';

/**
 * The ReadStore contract: every adapter runs this suite (against its real engine). Each test works in its own
 * collections (unique names), so suites and runs may share one database.
 *
 * @param makeStore  opens the store once for the suite
 * @param teardown   replaces the default `store.close()` at the end (e.g. drop a test database, then close)
 */
export function readStoreContract(
  makeStore: () => Promise<ReadStore>,
  teardown?: (store: ReadStore) => Promise<void>,
): void {
  let store: ReadStore;

  beforeAll(async () => {
    store = await makeStore();
  });

  afterAll(async () => {
    if (!store) return;
    if (teardown) await teardown(store);
    else await store.close();
  });

  /** A fresh collection name (valid: letters, digits and _). */
  const fresh = (tag: string) => `rs_${tag}_${uniqueSuffix()}`;

  const ids = (docs: Document[]) => docs.map((d) => d._id);

  /** Reads every page and returns all items, checking that no page is larger than the limit. */
  async function readAll(collection: string, filter: Filter, sort: SortSpec | undefined, limit: number) {
    const all: Document[] = [];
    let cursor: string | null = null;
    let pages = 0;
    do {
      const page: { items: Document[]; nextCursor: string | null } = await store.find(collection, filter, {
        sort,
        limit,
        cursor,
      });
      expect(page.items.length).toBeLessThanOrEqual(limit);
      all.push(...page.items);
      cursor = page.nextCursor;
      pages++;
      if (pages > 1000) throw new Error('paging does not end');
    } while (cursor);
    return { all, pages };
  }

  describe('documents', () => {
    it('given an inserted document, when it is read by _id, then it comes back whole, and an unknown _id gives null', async () => {
      const c = fresh('get');
      await store.ensureCollection({ name: c });
      const doc = {
        _id: 'doc-1',
        name: 'Ada',
        amount: '12.30',
        count: 9007199254740991,
        ratio: 0.25,
        active: true,
        missingLater: null,
        nested: { deep: { value: 'x', list: [1, 'two', { three: 3 }] } },
        tags: ['a', 'b'],
        unicode: 'Zürich ✓ 😀',
      };
      await store.insert(c, doc);
      expect(await store.get(c, 'doc-1')).toEqual(doc);
      expect(await store.get(c, 'nope')).toBeNull();
    });

    it('given a document, when another with the same _id is inserted, then DuplicateKeyError and the first is unchanged', async () => {
      const c = fresh('dupid');
      await store.ensureCollection({ name: c });
      await store.insert(c, { _id: 'x', v: 1 });
      await expect(store.insert(c, { _id: 'x', v: 2 })).rejects.toBeInstanceOf(DuplicateKeyError);
      expect(await store.get(c, 'x')).toEqual({ _id: 'x', v: 1 });
    });

    it('given a unique index, when an insert, an update or an upsert would repeat a value, then DuplicateKeyError and nothing changes', async () => {
      const c = fresh('uniq');
      await store.ensureCollection({
        name: c,
        indexes: [{ fields: { email: 1 }, unique: true, name: 'email_unique' }],
      });
      await store.insert(c, { _id: 'u1', email: 'ada@example.com' });
      await store.insert(c, { _id: 'u2', email: 'bob@example.com' });
      await expect(store.insert(c, { _id: 'u3', email: 'ada@example.com' })).rejects.toBeInstanceOf(
        DuplicateKeyError,
      );
      await expect(store.update(c, 'u2', { $set: { email: 'ada@example.com' } })).rejects.toBeInstanceOf(
        DuplicateKeyError,
      );
      await expect(
        store.update(c, 'u4', { $set: { email: 'bob@example.com' } }, { upsert: true }),
      ).rejects.toBeInstanceOf(DuplicateKeyError);
      expect(await store.get(c, 'u2')).toEqual({ _id: 'u2', email: 'bob@example.com' });
      expect(await store.get(c, 'u3')).toBeNull();
      expect(await store.get(c, 'u4')).toBeNull();
      expect(await store.count(c, {})).toBe(2);
      // a distinct value is fine, and documents without the field are not constrained
      await store.insert(c, { _id: 'u5', email: 'cy@example.com' });
      await store.insert(c, { _id: 'u6' });
      await store.insert(c, { _id: 'u7' });
      expect(await store.count(c, {})).toBe(5);
    });

    it('given a compound unique index on a dotted field, then only the full combination must be unique', async () => {
      const c = fresh('uniq2');
      await store.ensureCollection({
        name: c,
        indexes: [{ fields: { 'owner.org': 1, slug: 1 }, unique: true }],
      });
      await store.insert(c, { _id: '1', owner: { org: 'o1' }, slug: 'a' });
      await store.insert(c, { _id: '2', owner: { org: 'o2' }, slug: 'a' });
      await store.insert(c, { _id: '3', owner: { org: 'o1' }, slug: 'b' });
      await expect(store.insert(c, { _id: '4', owner: { org: 'o1' }, slug: 'a' })).rejects.toBeInstanceOf(
        DuplicateKeyError,
      );
      expect(await store.count(c, {})).toBe(3);
    });

    it('given some documents, when getMany asks for known and unknown ids, then the known ones come back in the order asked', async () => {
      const c = fresh('many');
      await store.ensureCollection({ name: c });
      for (const id of ['a', 'b', 'c', 'd']) await store.insert(c, { _id: id, v: id.toUpperCase() });
      expect(ids(await store.getMany(c, ['c', 'zz', 'a', 'd', 'c']))).toEqual(['c', 'a', 'd']);
      expect(await store.getMany(c, [])).toEqual([]);
      expect((await store.getMany(c, ['b']))[0]).toEqual({ _id: 'b', v: 'B' });
    });

    it('given a collection that was never created, when it is read, then it is empty, and a write creates it', async () => {
      const c = fresh('never');
      expect(await store.get(c, 'a')).toBeNull();
      expect(await store.getMany(c, ['a'])).toEqual([]);
      expect(await store.find(c, {})).toEqual({ items: [], nextCursor: null });
      expect(await store.count(c, {})).toBe(0);
      expect(await store.delete(c, 'a')).toBe(false);
      expect(await store.update(c, 'a', { $set: { v: 1 } })).toEqual({ matched: false, upserted: false });
      await store.insert(c, { _id: 'a', v: 1 });
      expect(await store.get(c, 'a')).toEqual({ _id: 'a', v: 1 });
      await store.dropCollection(c);
    });
  });

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

  describe('sort and paging', () => {
    /** 37 documents with ties on `group`, some missing `score`, and strings that order by code point. */
    const docs: Document[] = Array.from({ length: 37 }, (_, i) => {
      const d: Document = {
        _id: `id-${String((i * 7) % 37).padStart(2, '0')}`,
        group: i % 3,
        word: ['b', 'B', 'ä', 'a', 'z', '😀', '～'][i % 7],
      };
      if (i % 4 !== 0) d.score = (i * 5) % 11;
      return d;
    });

    /** The expected order: null/missing < numbers < strings, binary string order, then _id ascending. */
    function expectedOrder(sort: Array<[string, 1 | -1]>): string[] {
      const rank = (v: unknown) => (v === undefined || v === null ? 0 : typeof v === 'number' ? 1 : 2);
      const cmp = (a: unknown, b: unknown): number => {
        if (rank(a) !== rank(b)) return rank(a) - rank(b);
        if (typeof a === 'number') return a - (b as number);
        if (typeof a === 'string') {
          const x = Buffer.from(a, 'utf8');
          const y = Buffer.from(b as string, 'utf8');
          return Buffer.compare(x, y);
        }
        return 0;
      };
      return [...docs]
        .sort((x, y) => {
          for (const [k, dir] of sort) {
            const d = cmp(x[k], y[k]) * dir;
            if (d !== 0) return d;
          }
          return x._id < y._id ? -1 : x._id > y._id ? 1 : 0;
        })
        .map((d) => d._id);
    }

    let c: string;
    beforeAll(async () => {
      c = fresh('sort');
      await store.ensureCollection({ name: c, indexes: [{ fields: { group: 1, score: -1 } }] });
      for (const d of docs) await store.insert(c, d);
    });

    it('given no sort, when paging, then documents come in _id order, every one exactly once', async () => {
      const { all, pages } = await readAll(c, {}, undefined, 10);
      expect(ids(all)).toEqual(docs.map((d) => d._id).sort());
      expect(pages).toBe(4);
    });

    it('given a sort on two fields with ties and missing values, when paging by 4, then no duplicates and no gaps', async () => {
      const { all } = await readAll(c, {}, { group: 1, score: -1 }, 4);
      expect(ids(all)).toEqual(
        expectedOrder([
          ['group', 1],
          ['score', -1],
        ]),
      );
    });

    it('given a descending sort then an ascending one, when paging by 5, then the order holds across pages', async () => {
      const { all } = await readAll(c, {}, { score: -1, group: 1 }, 5);
      expect(ids(all)).toEqual(
        expectedOrder([
          ['score', -1],
          ['group', 1],
        ]),
      );
      const asc = await readAll(c, {}, { score: 1 }, 6);
      expect(ids(asc.all)).toEqual(expectedOrder([['score', 1]]));
    });

    it('given strings with accents, fullwidth forms and emoji, when sorted, then the order is binary (code point) order', async () => {
      const { all } = await readAll(c, {}, { word: 1 }, 7);
      expect(ids(all)).toEqual(expectedOrder([['word', 1]]));
      const desc = await readAll(c, {}, { word: -1, _id: -1 }, 3);
      const byWordDesc = [...docs]
        .sort(
          (x, y) =>
            Buffer.compare(Buffer.from(y.word, 'utf8'), Buffer.from(x.word, 'utf8')) ||
            (x._id < y._id ? 1 : -1),
        )
        .map((d) => d._id);
      expect(ids(desc.all)).toEqual(byWordDesc);
    });

    it('given a filter and a sort, when paging, then only matching documents come, in order', async () => {
      const { all } = await readAll(
        c,
        { group: { $in: [0, 2] }, score: { $gte: 3 } },
        { score: 1, group: -1 },
        3,
      );
      const expected = expectedOrder([
        ['score', 1],
        ['group', -1],
      ]).filter((id) => {
        const d = docs.find((x) => x._id === id)!;
        return (d.group === 0 || d.group === 2) && typeof d.score === 'number' && d.score >= 3;
      });
      expect(ids(all)).toEqual(expected);
      expect(expected.length).toBeGreaterThan(3);
    });

    it('given a limit that divides the result exactly, then the last full page has no next cursor', async () => {
      const c2 = fresh('exact');
      for (let i = 0; i < 6; i++) await store.insert(c2, { _id: `k${i}` });
      const p1 = await store.find(c2, {}, { limit: 3 });
      expect(ids(p1.items)).toEqual(['k0', 'k1', 'k2']);
      expect(p1.nextCursor).not.toBeNull();
      const p2 = await store.find(c2, {}, { limit: 3, cursor: p1.nextCursor });
      expect(ids(p2.items)).toEqual(['k3', 'k4', 'k5']);
      expect(p2.nextCursor).toBeNull();
      const all = await store.find(c2, {});
      expect(all.items).toHaveLength(6);
    });

    it('given more than the default limit, then a page holds 100 documents', async () => {
      const c2 = fresh('deflimit');
      await store.bulkUpdate(
        c2,
        Array.from({ length: 105 }, (_, i) => ({
          id: `d${String(i).padStart(3, '0')}`,
          update: { $set: { i } },
          options: { upsert: true },
        })),
      );
      const p1 = await store.find(c2, {});
      expect(p1.items).toHaveLength(100);
      const p2 = await store.find(c2, {}, { cursor: p1.nextCursor });
      expect(ids(p2.items)).toEqual(['d100', 'd101', 'd102', 'd103', 'd104']);
      expect(p2.nextCursor).toBeNull();
    });

    it('given a page was read, when a document is inserted before the cursor and one after, then the next pages neither repeat nor skip', async () => {
      const c2 = fresh('live');
      for (const id of ['b', 'd', 'f', 'h']) await store.insert(c2, { _id: id });
      const p1 = await store.find(c2, {}, { limit: 2 });
      expect(ids(p1.items)).toEqual(['b', 'd']);
      await store.insert(c2, { _id: 'a' });
      await store.insert(c2, { _id: 'e' });
      const rest = await store.find(c2, {}, { limit: 10, cursor: p1.nextCursor });
      expect(ids(rest.items)).toEqual(['e', 'f', 'h']);
    });

    it('given a cursor, when it is garbage or used with another sort, then ValidationError', async () => {
      const p1 = await store.find(c, {}, { sort: { group: 1 }, limit: 2 });
      expect(p1.nextCursor).not.toBeNull();
      await expect(
        store.find(c, {}, { sort: { score: 1 }, limit: 2, cursor: p1.nextCursor }),
      ).rejects.toBeInstanceOf(ValidationError);
      await expect(store.find(c, {}, { cursor: 'not-a-cursor' })).rejects.toBeInstanceOf(ValidationError);
    });
  });

  describe('updates', () => {
    let c: string;
    beforeEach(async () => {
      c = fresh('upd');
      await store.ensureCollection({ name: c });
    });

    it('given a document, when $set writes dotted paths, then nested objects are created and siblings kept', async () => {
      await store.insert(c, { _id: 'a', profile: { name: 'Ada', langs: ['en'] }, v: 1 });
      const res = await store.update(c, 'a', {
        $set: { 'profile.name': 'Ada L.', 'profile.address.city': 'London', w: { x: 1 } },
      });
      expect(res).toEqual({ matched: true, upserted: false });
      expect(await store.get(c, 'a')).toEqual({
        _id: 'a',
        profile: { name: 'Ada L.', langs: ['en'], address: { city: 'London' } },
        v: 1,
        w: { x: 1 },
      });
    });

    it('given a document, when $unset removes a dotted and a missing field, then only the existing one goes', async () => {
      await store.insert(c, { _id: 'a', profile: { name: 'Ada', age: 36 }, v: 1 });
      const res = await store.update(c, 'a', {
        $unset: { 'profile.age': 1, nothing: '', 'profile.none.deeper': true },
      });
      expect(res).toEqual({ matched: true, upserted: false });
      expect(await store.get(c, 'a')).toEqual({ _id: 'a', profile: { name: 'Ada' }, v: 1 });
    });

    it('given counters, when $inc adds to existing, missing and dotted fields, then sums are exact up to 2^53', async () => {
      await store.insert(c, { _id: 'a', n: 5, big: 2 ** 53 - 10, f: 0.5, stats: { hits: 1 } });
      await store.update(c, 'a', {
        $inc: { n: -7, big: 9, f: 0.25, 'stats.hits': 2, 'stats.misses': 3, fresh: 1 },
      });
      expect(await store.get(c, 'a')).toEqual({
        _id: 'a',
        n: -2,
        big: 2 ** 53 - 1,
        f: 0.75,
        stats: { hits: 3, misses: 3 },
        fresh: 1,
      });
    });

    it('given values, when $max and $min compare numbers and strings, then only improvements are written', async () => {
      await store.insert(c, {
        _id: 'a',
        hi: 10,
        lo: 10,
        first: '2024-05-01',
        last: '2024-05-01',
        sub: { top: 1 },
      });
      await store.update(c, 'a', {
        $max: { hi: 7, first: '2024-01-01', 'sub.top': 4, 'sub.new': 'x' },
        $min: { lo: 3, last: '2024-09-01', newMin: 2 },
      });
      expect(await store.get(c, 'a')).toEqual({
        _id: 'a',
        hi: 10,
        lo: 3,
        first: '2024-05-01',
        last: '2024-05-01',
        sub: { top: 4, new: 'x' },
        newMin: 2,
      });
      await store.update(c, 'a', {
        $max: { hi: 11, first: '2024-06-01' },
        $min: { lo: 3, last: '2023-12-31' },
      });
      expect(await store.get(c, 'a')).toMatchObject({
        hi: 11,
        lo: 3,
        first: '2024-06-01',
        last: '2023-12-31',
      });
    });

    // No nested arrays (an array pushed as one value): FerretDB v1 refuses arrays directly inside arrays.
    it('given arrays, when $push appends one value or $each, then values are appended in order and missing arrays created', async () => {
      await store.insert(c, { _id: 'a', list: [1], nested: { events: [] } });
      await store.update(c, 'a', {
        $push: {
          list: 2,
          'nested.events': { $each: [{ t: 'x' }, { t: 'y' }] },
          made: { $each: ['p', 'q'] },
          one: { k: [7, 8] },
        },
      });
      await store.update(c, 'a', { $push: { list: { $each: [3, 4] } } });
      expect(await store.get(c, 'a')).toEqual({
        _id: 'a',
        list: [1, 2, 3, 4],
        nested: { events: [{ t: 'x' }, { t: 'y' }] },
        made: ['p', 'q'],
        one: [{ k: [7, 8] }],
      });
    });

    it('given an existing document, when $setOnInsert is part of an upsert, then it is ignored and the rest applies', async () => {
      await store.insert(c, { _id: 'a', created: 'old', n: 1 });
      const res = await store.update(
        c,
        'a',
        { $setOnInsert: { created: 'new', other: 1 }, $inc: { n: 1 } },
        { upsert: true },
      );
      expect(res).toEqual({ matched: true, upserted: false });
      expect(await store.get(c, 'a')).toEqual({ _id: 'a', created: 'old', n: 2 });
    });

    it('given no document, when updating without upsert, then nothing matches and nothing is created', async () => {
      expect(await store.update(c, 'ghost', { $set: { v: 1 } })).toEqual({ matched: false, upserted: false });
      expect(await store.update(c, 'ghost', { $inc: { v: 1 } }, { guard: { v: { $lt: 3 } } })).toEqual({
        matched: false,
        upserted: false,
      });
      expect(await store.get(c, 'ghost')).toBeNull();
    });

    it('given no document, when every operator upserts it, then it holds only _id and the fields of the update', async () => {
      const res = await store.update(
        c,
        'new',
        {
          $setOnInsert: { createdAt: '2025-01-01T00:00:00Z', 'meta.by': 'system' },
          $set: { name: 'Ada', 'profile.city': 'London' },
          $inc: { n: 5, 'stats.total': 2 },
          $max: { best: 7 },
          $min: { first: '2025-01-01' },
          $push: { log: 'created', 'meta.tags': { $each: ['a', 'b'] } },
          $unset: { gone: 1 },
        },
        { upsert: true, guard: { _pos: { $lt: '00000000000000000042' } } },
      );
      expect(res).toEqual({ matched: false, upserted: true });
      expect(await store.get(c, 'new')).toEqual({
        _id: 'new',
        createdAt: '2025-01-01T00:00:00Z',
        meta: { by: 'system', tags: ['a', 'b'] },
        name: 'Ada',
        profile: { city: 'London' },
        n: 5,
        stats: { total: 2 },
        best: 7,
        first: '2025-01-01',
        log: ['created'],
      });
    });

    it('given upserts that alternately create and update documents, then each answers and applies as its own case', async () => {
      // Whatever order an adapter tries the insert and the update in, the answers must not depend on the previous op.
      const c = fresh('upalt');
      await store.ensureCollection({ name: c, indexes: [{ fields: { v: 1 } }] });
      const guard = (pos: string) => ({ upsert: true, guard: { _pos: { $lt: pos } } });
      const set = (v: number, pos: string) => ({ $set: { v, _pos: pos }, $setOnInsert: { created: pos } });
      const created = { matched: false, upserted: true };
      const applied = { matched: true, upserted: false };
      const refused = { matched: false, upserted: false };
      const steps: Array<[string, UpdateSpec, UpdateOptions, UpdateResult]> = [
        ['a', set(1, '01'), guard('01'), created],
        ['a', set(2, '02'), guard('02'), applied],
        ['b', set(3, '03'), guard('03'), created],
        // After a creation, an upsert of an existing document whose guard refuses it: not applied, not created again.
        ['a', set(9, '01'), guard('01'), refused],
        ['c', set(4, '04'), guard('04'), created],
        ['b', { $inc: { v: 10 } }, { upsert: true }, applied],
      ];
      for (const [id, update, options, expected] of steps)
        expect(await store.update(c, id, update, options)).toEqual(expected);
      const results = await store.bulkUpdate(c, [
        { id: 'd', update: set(5, '05'), options: guard('05') },
        { id: 'a', update: set(6, '06'), options: guard('06') },
        { id: 'd', update: set(7, '05'), options: guard('05') },
      ]);
      expect(results).toEqual([created, applied, refused]);
      expect((await store.find(c, {}, { sort: { _id: 1 } })).items).toEqual([
        { _id: 'a', v: 6, _pos: '06', created: '01' },
        { _id: 'b', v: 13, _pos: '03', created: '03' },
        { _id: 'c', v: 4, _pos: '04', created: '04' },
        { _id: 'd', v: 5, _pos: '05', created: '05' },
      ]);
    });

    it('given no document, when upserting with equality guards, then the guard fields are not copied into it', async () => {
      const res = await store.update(
        c,
        'eq',
        { $set: { v: 1 } },
        { upsert: true, guard: { status: 'open', kind: { $eq: 'x' }, level: { $in: [3] } } },
      );
      expect(res).toEqual({ matched: false, upserted: true });
      expect(await store.get(c, 'eq')).toEqual({ _id: 'eq', v: 1 });
      const res2 = await store.update(
        c,
        'range',
        { $set: { v: 2 } },
        { upsert: true, guard: { a: { $in: [1, 2] }, b: { $ne: 3 }, d: { $exists: false } } },
      );
      expect(res2).toEqual({ matched: false, upserted: true });
      expect(await store.get(c, 'range')).toEqual({ _id: 'range', v: 2 });
    });

    it('given a document, when the guard refuses, then matched is false and the document is unchanged; when it holds, the update applies', async () => {
      await store.insert(c, { _id: 'a', status: 'open', version: 3, tags: ['x'] });
      expect(
        await store.update(c, 'a', { $set: { status: 'closed' } }, { guard: { status: 'closed' } }),
      ).toEqual({
        matched: false,
        upserted: false,
      });
      expect(
        await store.update(c, 'a', { $inc: { version: 1 } }, { guard: { version: { $gt: 3 } } }),
      ).toEqual({
        matched: false,
        upserted: false,
      });
      expect(
        await store.update(c, 'a', { $inc: { version: 1 } }, { guard: { missing: { $exists: true } } }),
      ).toEqual({
        matched: false,
        upserted: false,
      });
      expect(await store.get(c, 'a')).toEqual({ _id: 'a', status: 'open', version: 3, tags: ['x'] });
      expect(
        await store.update(
          c,
          'a',
          { $set: { status: 'closed' }, $inc: { version: 1 } },
          { guard: { status: 'open', version: { $gte: 3, $lt: 4 }, tags: 'x', missing: { $exists: false } } },
        ),
      ).toEqual({ matched: true, upserted: false });
      expect(await store.get(c, 'a')).toEqual({ _id: 'a', status: 'closed', version: 4, tags: ['x'] });
    });

    it('given a document whose guard fails, when upserting, then nothing changes and no error is raised', async () => {
      await store.insert(c, { _id: 'a', _pos: '00000000000000000010', n: 1 });
      const res = await store.update(
        c,
        'a',
        { $set: { _pos: '00000000000000000005' }, $inc: { n: 1 } },
        { upsert: true, guard: { _pos: { $lt: '00000000000000000005' } } },
      );
      expect(res).toEqual({ matched: false, upserted: false });
      const res2 = await store.update(
        c,
        'a',
        { $inc: { n: 1 } },
        { upsert: true, guard: { owner: 'someone' } },
      );
      expect(res2).toEqual({ matched: false, upserted: false });
      expect(await store.get(c, 'a')).toEqual({ _id: 'a', _pos: '00000000000000000010', n: 1 });
    });

    it('given the idempotent projection pattern, when the same event is applied twice, then the second time changes nothing', async () => {
      const apply = (pos: number, amount: number) => {
        const p = String(pos).padStart(20, '0');
        return store.update(
          c,
          'acct-1',
          {
            $set: { _pos: p, lastAmount: amount },
            $inc: { total: amount, events: 1 },
            $setOnInsert: { openedAt: p },
          },
          { upsert: true, guard: { _pos: { $lt: p } } },
        );
      };
      expect(await apply(5, 10)).toEqual({ matched: false, upserted: true });
      expect(await apply(5, 10)).toEqual({ matched: false, upserted: false });
      expect(await apply(12, 3)).toEqual({ matched: true, upserted: false });
      expect(await apply(12, 3)).toEqual({ matched: false, upserted: false });
      expect(await apply(9, 100)).toEqual({ matched: false, upserted: false });
      expect(await apply(100, 1)).toEqual({ matched: true, upserted: false });
      expect(await store.get(c, 'acct-1')).toEqual({
        _id: 'acct-1',
        _pos: '00000000000000000100',
        openedAt: '00000000000000000005',
        lastAmount: 1,
        total: 14,
        events: 3,
      });
    });

    it('given one document, when 200 $inc updates run concurrently, then it ends exactly +200', async () => {
      await store.insert(c, { _id: 'hot', n: 0 });
      const results = await Promise.all(
        Array.from({ length: 200 }, () => store.update(c, 'hot', { $inc: { n: 1 } })),
      );
      expect(results.every((r) => r.matched)).toBe(true);
      expect((await store.get(c, 'hot'))!.n).toBe(200);
    });

    it('given no document, when 50 upserts of it run concurrently, then exactly one inserts and all increments count', async () => {
      const results = await Promise.all(
        Array.from({ length: 50 }, () => store.update(c, 'race', { $inc: { n: 1 } }, { upsert: true })),
      );
      expect(results.filter((r) => r.upserted)).toHaveLength(1);
      expect(results.filter((r) => r.matched)).toHaveLength(49);
      expect(await store.get(c, 'race')).toEqual({ _id: 'race', n: 50 });
    });

    it('given invalid updates, then ValidationError and nothing changes', async () => {
      await store.insert(c, { _id: 'a', s: 'text', n: 1, o: { k: 1 } });
      const bad = async (u: unknown) =>
        expect(store.update(c, 'a', u as never, { upsert: true })).rejects.toBeInstanceOf(ValidationError);
      await bad({ $rename: { n: 'm' } });
      await bad({});
      await bad({ $set: {} });
      await bad({ $set: { _id: 'b' } });
      await bad({ $set: { 'o.k': 2 }, $inc: { o: 1 } });
      await bad({ $set: { n: 2 }, $inc: { n: 1 } });
      await bad({ $inc: { n: 'one' } });
      await bad({ $set: { $where: 1 } });
      await bad({ $push: { list: { $each: [1], $slice: 2 } } });
      await bad({ $inc: { s: 1 } });
      await bad({ $push: { s: 'x' } });
      await bad({ $set: { 's.inner': 1 } });
      await expect(store.update(c, '', { $set: { v: 1 } })).rejects.toBeInstanceOf(ValidationError);
      expect(await store.get(c, 'a')).toEqual({ _id: 'a', s: 'text', n: 1, o: { k: 1 } });
    });
  });

  describe('bulkUpdate', () => {
    it('given mixed ops, then one result per op in order, and ops on one document apply in order', async () => {
      const c = fresh('bulk');
      await store.ensureCollection({ name: c });
      await store.insert(c, { _id: 'old', n: 1, _pos: '05' });
      const results = await store.bulkUpdate(c, [
        { id: 'new', update: { $inc: { n: 1 } }, options: { upsert: true } },
        { id: 'old', update: { $inc: { n: 1 } } },
        { id: 'old', update: { $set: { _pos: '03' } }, options: { guard: { _pos: { $lt: '03' } } } },
        { id: 'ghost', update: { $set: { v: 1 } } },
        { id: 'new', update: { $inc: { n: 10 } }, options: { upsert: true } },
        {
          id: 'seq',
          update: { $set: { _pos: '01' }, $push: { seen: 1 } },
          options: { upsert: true, guard: { _pos: { $lt: '01' } } },
        },
        {
          id: 'seq',
          update: { $set: { _pos: '02' }, $push: { seen: 2 } },
          options: { upsert: true, guard: { _pos: { $lt: '02' } } },
        },
        {
          id: 'seq',
          update: { $set: { _pos: '03' }, $push: { seen: 3 } },
          options: { upsert: true, guard: { _pos: { $lt: '03' } } },
        },
        {
          id: 'seq',
          update: { $set: { _pos: '02' }, $push: { seen: 99 } },
          options: { upsert: true, guard: { _pos: { $lt: '02' } } },
        },
      ]);
      expect(results).toEqual([
        { matched: false, upserted: true },
        { matched: true, upserted: false },
        { matched: false, upserted: false },
        { matched: false, upserted: false },
        { matched: true, upserted: false },
        { matched: false, upserted: true },
        { matched: true, upserted: false },
        { matched: true, upserted: false },
        { matched: false, upserted: false },
      ]);
      expect(await store.get(c, 'new')).toEqual({ _id: 'new', n: 11 });
      expect(await store.get(c, 'old')).toEqual({ _id: 'old', n: 2, _pos: '05' });
      expect(await store.get(c, 'ghost')).toBeNull();
      expect(await store.get(c, 'seq')).toEqual({ _id: 'seq', _pos: '03', seen: [1, 2, 3] });
      expect(await store.bulkUpdate(c, [])).toEqual([]);
    });

    it('given many ops over many documents, when the batch is replayed, then every op is refused the second time', async () => {
      const c = fresh('bulkmany');
      const ops = Array.from({ length: 600 }, (_, i) => {
        const p = String(i).padStart(20, '0');
        return {
          id: `doc-${i % 40}`,
          update: { $set: { _pos: p }, $inc: { count: 1, sum: i } },
          options: { upsert: true, guard: { _pos: { $lt: p } } },
        };
      });
      const first = await store.bulkUpdate(c, ops);
      expect(first.filter((r) => r.upserted)).toHaveLength(40);
      expect(first.filter((r) => r.matched)).toHaveLength(560);
      const again = await store.bulkUpdate(c, ops);
      expect(again.every((r) => !r.matched && !r.upserted)).toBe(true);
      const doc7 = await store.get(c, 'doc-7');
      expect(doc7).toEqual({
        _id: 'doc-7',
        _pos: String(7 + 40 * 14).padStart(20, '0'),
        count: 15,
        sum: 15 * 7 + (40 * (14 * 15)) / 2,
      });
      expect(await store.count(c, { count: 15 })).toBe(40);
    });

    it('given an op that clashes with a unique index, then DuplicateKeyError naming it, and the other ops still apply', async () => {
      const c = fresh('bulkdup');
      await store.ensureCollection({ name: c, indexes: [{ fields: { code: 1 }, unique: true }] });
      await store.insert(c, { _id: 'a', code: 'A' });
      const attempt = store.bulkUpdate(c, [
        { id: 'b', update: { $set: { code: 'B' } }, options: { upsert: true } },
        { id: 'c', update: { $set: { code: 'A' } }, options: { upsert: true } },
        { id: 'd', update: { $set: { code: 'D' } }, options: { upsert: true } },
      ]);
      await expect(attempt).rejects.toBeInstanceOf(DuplicateKeyError);
      await expect(attempt).rejects.toMatchObject({ details: [expect.objectContaining({ index: 1 })] });
      expect(ids((await store.find(c, {})).items)).toEqual(['a', 'b', 'd']);
    });

    it('given an invalid op anywhere in the batch, then ValidationError and no op applies', async () => {
      const c = fresh('bulkbad');
      await expect(
        store.bulkUpdate(c, [
          { id: 'a', update: { $set: { v: 1 } }, options: { upsert: true } },
          { id: 'b', update: { $bad: { v: 1 } } as never },
        ]),
      ).rejects.toBeInstanceOf(ValidationError);
      expect(await store.count(c, {})).toBe(0);
    });
  });

  describe('declared array fields', () => {
    it('given a collection that declares its array fields, when filtering and paging, then arrays match by element and scalars page in index order', async () => {
      const c = fresh('arr');
      await store.ensureCollection({ name: c, arrays: ['tags'], indexes: [{ fields: { org: 1, name: 1 } }] });
      const docs = Array.from({ length: 25 }, (_, i) => ({
        _id: `d${String(i).padStart(2, '0')}`,
        org: 'o',
        name: `n${i % 5}`,
        tags: [`t${i % 3}`, 'all'],
      }));
      await store.insertMany(c, docs);
      const tagged = await store.find(
        c,
        { org: 'o', tags: { $in: ['t1'] } },
        { sort: { name: 1 }, limit: 100 },
      );
      expect(tagged.items.map((d) => d._id)).toEqual(
        docs
          .filter((d) => d.tags.includes('t1'))
          .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : a._id < b._id ? -1 : 1))
          .map((d) => d._id),
      );
      const seen: string[] = [];
      let cursor: string | null = null;
      do {
        const page: { items: Document[]; nextCursor: string | null } = await store.find(
          c,
          { org: 'o' },
          { sort: { name: 1 }, limit: 4, cursor },
        );
        seen.push(...page.items.map((d) => d._id));
        cursor = page.nextCursor;
      } while (cursor);
      expect(seen).toHaveLength(25);
      expect(new Set(seen).size).toBe(25);
      expect(await store.count(c, { tags: 'all' })).toBe(25);
    });
  });

  describe('insertMany', () => {
    it('given some documents already stored, when inserting a batch again with new ones, then only the new ones are inserted and stored ones are untouched', async () => {
      const c = fresh('im');
      await store.ensureCollection({ name: c });
      expect(
        await store.insertMany(c, [
          { _id: 'a', v: 1 },
          { _id: 'b', v: 2 },
        ]),
      ).toEqual({ inserted: 2 });
      expect(
        await store.insertMany(c, [
          { _id: 'a', v: 99 },
          { _id: 'b', v: 99 },
          { _id: 'c', v: 3 },
        ]),
      ).toEqual({ inserted: 1 });
      const all = await store.find(c, {}, { sort: { _id: 1 } });
      expect(all.items).toEqual([
        { _id: 'a', v: 1 },
        { _id: 'b', v: 2 },
        { _id: 'c', v: 3 },
      ]);
      expect(await store.insertMany(c, [])).toEqual({ inserted: 0 });
    });

    it('given a unique index, when a batch clashes on it, then DuplicateKeyError', async () => {
      const c = fresh('imu');
      await store.ensureCollection({ name: c, indexes: [{ fields: { email: 1 }, unique: true }] });
      await store.insertMany(c, [{ _id: 'a', email: 'x@y.z' }]);
      await expect(store.insertMany(c, [{ _id: 'b', email: 'x@y.z' }])).rejects.toBeInstanceOf(
        DuplicateKeyError,
      );
    });
  });

  describe('delete', () => {
    it('given documents, when deleting with and without a guard, then only matching documents go', async () => {
      const c = fresh('del');
      await store.insert(c, { _id: 'a', status: 'open' });
      await store.insert(c, { _id: 'b', status: 'closed' });
      expect(await store.delete(c, 'a', { status: 'closed' })).toBe(false);
      expect(await store.get(c, 'a')).not.toBeNull();
      expect(await store.delete(c, 'a', { status: 'open' })).toBe(true);
      expect(await store.get(c, 'a')).toBeNull();
      expect(await store.delete(c, 'a')).toBe(false);
      expect(await store.delete(c, 'b')).toBe(true);
      expect(await store.count(c, {})).toBe(0);
    });
  });

  describe('collections', () => {
    it('given a collection with documents, when ensureCollection runs again with the same indexes, then nothing is lost', async () => {
      const c = fresh('ensure');
      const spec: CollectionSpec = {
        name: c,
        indexes: [{ fields: { a: 1 } }, { fields: { b: -1 }, unique: true }],
      };
      await store.ensureCollection(spec);
      await store.insert(c, { _id: 'x', a: 1, b: 1 });
      await store.ensureCollection(spec);
      await store.ensureCollection(spec);
      expect(await store.get(c, 'x')).toEqual({ _id: 'x', a: 1, b: 1 });
      await expect(store.insert(c, { _id: 'y', b: 1 })).rejects.toBeInstanceOf(DuplicateKeyError);
    });

    it('given a collection, when it is dropped, then its documents are gone and it can be used again', async () => {
      const c = fresh('drop');
      await store.ensureCollection({ name: c, indexes: [{ fields: { k: 1 }, unique: true }] });
      await store.insert(c, { _id: 'x', k: 1 });
      await store.dropCollection(c);
      expect(await store.get(c, 'x')).toBeNull();
      expect(await store.count(c, {})).toBe(0);
      await store.dropCollection(c); // dropping a missing collection is fine
      await store.ensureCollection({ name: c });
      await store.insert(c, { _id: 'x', k: 2 });
      await store.insert(c, { _id: 'y', k: 2 }); // the old unique index went with the collection
      expect(await store.count(c, {})).toBe(2);
    });

    it('given an index that is no longer declared, when ensureCollection runs, then it is dropped and its constraint no longer applies', async () => {
      const c = fresh('undeclared');
      await store.ensureCollection({
        name: c,
        indexes: [{ fields: { k: 1 }, unique: true }, { fields: { a: 1 } }],
      });
      await store.insert(c, { _id: 'x', k: 1, a: 1 });
      await expect(store.insert(c, { _id: 'y', k: 1 })).rejects.toBeInstanceOf(DuplicateKeyError);
      await store.ensureCollection({ name: c, indexes: [{ fields: { a: 1 } }] });
      await store.insert(c, { _id: 'y', k: 1, a: 2 });
      expect(await store.count(c, { k: 1 })).toBe(2);
      expect((await store.find(c, { a: 2 })).items.map((d) => d._id)).toEqual(['y']);
    });

    it('given readers and writers busy on the store, when a collection is dropped and ensured again and again (a rebuild), then every ensure succeeds and its unique index holds', async () => {
      const c = fresh('rebuild');
      const spec: CollectionSpec = {
        name: c,
        indexes: [{ fields: { k: 1 }, unique: true }, { fields: { a: 1, b: 1 } }],
      };
      await store.ensureCollection(spec);
      let busy = true;
      const others = Array.from({ length: 6 }, async (_, w) => {
        for (let i = 0; busy; i++) {
          await store.find(c, { a: 1 }, { limit: 3 }).catch(() => undefined);
          await store
            .update(c, `w${w}-${i}`, { $set: { a: 1, b: i } }, { upsert: true })
            .catch(() => undefined);
        }
      });
      try {
        for (let round = 0; round < 60; round++) {
          await store.dropCollection(c);
          await store.ensureCollection(spec);
        }
      } finally {
        busy = false;
        await Promise.all(others);
      }
      await store.insert(c, { _id: 'first', k: 7 });
      await expect(store.insert(c, { _id: 'second', k: 7 })).rejects.toBeInstanceOf(DuplicateKeyError);
    });

    it.each(['', '1abc', 'a-b', 'a.b', 'system.users', '$cmd', 'a b', 'x'.repeat(64), 'ünï'])(
      'given the bad collection name %j, then every call is refused with ValidationError',
      async (name) => {
        await expect(store.ensureCollection({ name })).rejects.toBeInstanceOf(ValidationError);
        await expect(store.dropCollection(name)).rejects.toBeInstanceOf(ValidationError);
        await expect(store.insert(name, { _id: 'a' })).rejects.toBeInstanceOf(ValidationError);
        await expect(store.get(name, 'a')).rejects.toBeInstanceOf(ValidationError);
        await expect(store.find(name, {})).rejects.toBeInstanceOf(ValidationError);
        await expect(store.count(name, {})).rejects.toBeInstanceOf(ValidationError);
        await expect(store.update(name, 'a', { $set: { v: 1 } }, { upsert: true })).rejects.toBeInstanceOf(
          ValidationError,
        );
        await expect(
          store.bulkUpdate(name, [{ id: 'a', update: { $set: { v: 1 } } }]),
        ).rejects.toBeInstanceOf(ValidationError);
        await expect(store.delete(name, 'a')).rejects.toBeInstanceOf(ValidationError);
      },
    );

    it('given the longest valid name, then it works', async () => {
      const c = `L${uniqueSuffix()}`.padEnd(63, 'x');
      await store.ensureCollection({ name: c });
      await store.insert(c, { _id: 'a' });
      expect(await store.count(c, {})).toBe(1);
      await store.dropCollection(c);
    });
  });
}
