import { ReadStore, UpdateOptions, UpdateResult, UpdateSpec, ValidationError } from '@purser/core';
import { ReadStoreContractContext } from './context';

/** The read-store contract, part: update: the update operators, upserts and their refusals. */
export function readStoreUpdates(ctx: ReadStoreContractContext): void {
  let store: ReadStore;
  beforeAll(() => {
    store = ctx.store();
  });
  const { fresh } = ctx;

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
}
