import { DuplicateKeyError, ReadStore } from '@purser/core';
import { ReadStoreContractContext } from './context';

/** The read-store contract, part: Documents: insert, get, replace, upsert, and what a document may hold. */
export function readStoreDocuments(ctx: ReadStoreContractContext): void {
  let store: ReadStore;
  beforeAll(() => {
    store = ctx.store();
  });
  const { fresh, ids } = ctx;

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
}
