import { readStoreContract } from '@purser/testkit';
import { MemoryReadStore } from './memory-read-store';

describe('in-memory read store contract', () => {
  readStoreContract(async () => new MemoryReadStore());
});

describe('in-memory read store specifics', () => {
  it('given a stored document, when the caller changes the object it inserted or got back, then the stored one is unchanged', async () => {
    const store = new MemoryReadStore();
    const doc = { _id: 'a', nested: { list: [1] }, n: 1 };
    await store.insert('things', doc);
    doc.nested.list.push(2);
    doc.n = 99;
    const read = (await store.get('things', 'a'))!;
    read.nested.list.push(3);
    (await store.find('things', {})).items[0].nested.list.push(4);
    (await store.getMany('things', ['a']))[0].nested.list.push(5);
    const value = { list: [7] };
    await store.update('things', 'b', { $set: { value } }, { upsert: true });
    value.list.push(8);
    expect(await store.get('things', 'a')).toEqual({ _id: 'a', nested: { list: [1] }, n: 1 });
    expect(await store.get('things', 'b')).toEqual({ _id: 'b', value: { list: [7] } });
  });

  it('given an update whose second step fails, then the document is unchanged', async () => {
    const store = new MemoryReadStore();
    await store.insert('things', { _id: 'a', n: 1, s: 'text' });
    await expect(store.update('things', 'a', { $inc: { n: 1, s: 1 } })).rejects.toMatchObject({
      name: 'ValidationError',
    });
    expect(await store.get('things', 'a')).toEqual({ _id: 'a', n: 1, s: 'text' });
  });

  it('given a batch that clashes with a unique index, when inserted, then none of it is stored', async () => {
    const store = new MemoryReadStore();
    await store.ensureCollection({ name: 'users', indexes: [{ fields: { email: 1 }, unique: true }] });
    await store.insert('users', { _id: 'a', email: 'a@x.y' });
    await expect(
      store.insertMany('users', [
        { _id: 'b', email: 'b@x.y' },
        { _id: 'c', email: 'a@x.y' },
      ]),
    ).rejects.toMatchObject({ name: 'DuplicateKeyError' });
    expect(await store.count('users', {})).toBe(1);
    await store.insert('users', { _id: 'b', email: 'b@x.y' }); // its key was released
  });

  it('given a document, when its unique field changes or it is deleted, then the old value is free again', async () => {
    const store = new MemoryReadStore();
    await store.ensureCollection({ name: 'users', indexes: [{ fields: { email: 1 }, unique: true }] });
    await store.insert('users', { _id: 'a', email: 'old@x.y' });
    await store.update('users', 'a', { $set: { email: 'new@x.y' } });
    await store.insert('users', { _id: 'b', email: 'old@x.y' });
    await store.delete('users', 'b');
    await store.insert('users', { _id: 'c', email: 'old@x.y' });
    await expect(store.insert('users', { _id: 'd', email: 'new@x.y' })).rejects.toMatchObject({
      name: 'DuplicateKeyError',
    });
  });
});
