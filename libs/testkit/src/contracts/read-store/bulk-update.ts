import { Document, DuplicateKeyError, ReadStore, ValidationError } from '@purser/core';
import { ReadStoreContractContext } from './context';

/** The read-store contract, part: bulkUpdate, and declared array fields. */
export function readStoreBulkUpdate(ctx: ReadStoreContractContext): void {
  let store: ReadStore;
  beforeAll(() => {
    store = ctx.store();
  });
  const { fresh, ids } = ctx;

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
}
