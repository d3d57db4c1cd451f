import { Document, ReadStore, ValidationError } from '@purser/core';
import { ReadStoreContractContext } from './context';

/** The read-store contract, part: Sorting and cursor paging. */
export function readStoreSorting(ctx: ReadStoreContractContext): void {
  let store: ReadStore;
  beforeAll(() => {
    store = ctx.store();
  });
  const { fresh, ids, readAll } = ctx;

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
}
