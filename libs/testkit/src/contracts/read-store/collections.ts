import { CollectionSpec, DuplicateKeyError, ReadStore, ValidationError } from '@purser/core';
import { uniqueSuffix } from '../../engines';
import { ReadStoreContractContext } from './context';

/** The read-store contract, part: insertMany, delete and collections (ensure, indexes, drop, names). */
export function readStoreCollections(ctx: ReadStoreContractContext): void {
  let store: ReadStore;
  beforeAll(() => {
    store = ctx.store();
  });
  const { fresh } = ctx;

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
