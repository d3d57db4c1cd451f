import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConflictError, RecordedEvent } from '@purser/core';
import { eventStoreContract, usageEvent } from '@purser/testkit';
import { SqliteEventStore } from './sqlite-event-store';

describe('SQLite event store contract', () => {
  const dir = mkdtempSync(join(tmpdir(), 'purser-es-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  eventStoreContract(async () => new SqliteEventStore(join(dir, 'events.db'), { pollIntervalMs: 50 }));

  describe('with the checkpoint thread', () => {
    eventStoreContract(
      async () =>
        new SqliteEventStore(join(dir, 'events-ckpt.db'), { pollIntervalMs: 50, checkpointThread: true }),
    );
  });

  it('given a batch whose second event reuses a stored event id, then the whole batch is refused and nothing is stored', async () => {
    const store = new SqliteEventStore(join(dir, 'atomic.db'));
    const used = usageEvent('1');
    await store.append('acct-a', [used], 'no_stream');
    await store.append('acct-b', [usageEvent('0')], 'no_stream');
    await expect(store.append('acct-b', [usageEvent('2'), used], 0n)).rejects.toBeInstanceOf(ConflictError);
    expect(await store.readStream('acct-b')).toHaveLength(1);
    expect(await store.headPosition()).toBe(2n);
    await store.close();
  });

  it('given appendMany with a write whose later event reuses a stored event id, then that write stores nothing and the others are stored', async () => {
    const store = new SqliteEventStore(join(dir, 'many.db'));
    const stored = usageEvent('0');
    await store.append('acct-s', [stored], 'no_stream');
    const outcomes = await store.appendMany([
      { streamId: 'acct-p', events: [usageEvent('1'), stored], expected: 'no_stream' },
      { streamId: 'acct-f', events: [usageEvent('2')], expected: 'no_stream' },
      {
        streamId: 'acct-q',
        events: [usageEvent('3'), usageEvent('4')].map((e, _i, all) => ({ ...e, metadata: all[0].metadata })),
        expected: 'no_stream',
      },
    ]);
    expect(outcomes.map((o) => o.ok)).toEqual([false, true, false]);
    expect(outcomes[0].ok === false && outcomes[0].error).toBeInstanceOf(ConflictError);
    expect(outcomes[2].ok === false && outcomes[2].error).toBeInstanceOf(ConflictError);
    expect(await store.readStream('acct-p')).toEqual([]);
    expect(await store.readStream('acct-q')).toEqual([]);
    expect(await store.readStream('acct-f')).toHaveLength(1);
    expect(await store.headPosition()).toBe(2n);
    await expect(store.append('acct-p', [usageEvent('5')], 'no_stream')).resolves.toMatchObject({
      nextRevision: 0n,
    });
    await store.close();
  });

  it('given events appended again, then the answer is flagged duplicate', async () => {
    const store = new SqliteEventStore(join(dir, 'dup.db'));
    const events = [usageEvent('1')];
    const first = await store.append('acct-d', events, 'no_stream');
    expect(first.duplicate).toBeUndefined();
    expect(await store.append('acct-d', events, 'no_stream')).toEqual({ ...first, duplicate: true });
    await store.close();
  });

  it('given a key recorded once, when the store is reopened on the same file, then the key is still a duplicate', async () => {
    const file = join(dir, 'once-reopen.db');
    const event = usageEvent('1', { eventId: 'usage/org-1/k', orgId: 'org-1' });
    const write = {
      scope: 'org-1',
      key: 'k',
      streamId: 'usage-org-1',
      event: { ...event, metadata: { ...event.metadata, fingerprint: 'fp' } },
    };
    const a = new SqliteEventStore(file);
    const [first] = await a.appendOnce([write]);
    await a.close();
    const b = new SqliteEventStore(file);
    expect(await b.appendOnce([write])).toEqual([{ ...first, status: 'duplicate' }]);
    expect(await b.headPosition()).toBe(first.position);
    await b.close();
  });

  it('given a store closed and reopened on the same file, then every event is still there', async () => {
    const file = join(dir, 'reopen.db');
    const a = new SqliteEventStore(file);
    const res = await a.append('acct-1', [usageEvent('1.23'), usageEvent('4.56')], 'no_stream');
    await a.close();
    const b = new SqliteEventStore(file);
    const read = await b.readStream('acct-1');
    expect(read.map((e) => (e.data as { amount: string }).amount)).toEqual(['1.23', '4.56']);
    expect(await b.headPosition()).toBe(res.position);
    await b.close();
  });

  it('given a second process writing to the same file, then a live subscription sees its events by polling', async () => {
    const file = join(dir, 'shared.db');
    const reader = new SqliteEventStore(file, { pollIntervalMs: 20 });
    const writer = new SqliteEventStore(file);
    const seen: string[] = [];
    const sub = reader.subscribeToAll({}, async (b) => {
      seen.push(...b.events.map((e) => e.streamId));
    });
    await writer.append('other-1', [usageEvent('1')], 'no_stream');
    const deadline = Date.now() + 5000;
    while (!seen.includes('other-1') && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
    await sub.stop();
    expect(seen).toEqual(['other-1']);
    await reader.close();
    await writer.close();
  });

  it('given maxCount 0, when reading $all with or without a filter, then nothing is read and the checkpoint stays', async () => {
    const store = new SqliteEventStore(join(dir, 'max0.db'));
    await store.append('acct-1', [usageEvent('1')], 'no_stream');
    for (const filter of [undefined, { eventTypes: ['TestUsageRecorded'] }]) {
      expect(await store.readAll({ after: -1n, maxCount: 0, filter })).toEqual({
        events: [],
        checkpoint: -1n,
      });
    }
    await store.close();
  });

  it('given events read from the store, when a reader looks at the metadata only, then their data is never parsed, and once it is, it is parsed once', async () => {
    const store = new SqliteEventStore(join(dir, 'lazy.db'));
    try {
      const appended = [usageEvent('1'), usageEvent('2')];
      await store.append('acct-lazy', appended, 'no_stream');
      const { events } = await store.readAll({ after: -1n });
      const parse = jest.spyOn(JSON, 'parse');
      try {
        expect(events.map((e) => e.metadata.eventId)).toEqual(appended.map((e) => e.metadata.eventId));
        expect(parse).toHaveBeenCalledTimes(2);
        expect(events[0].data).toEqual(appended[0].data);
        expect(events[0].data).toBe(events[0].data);
        expect(parse).toHaveBeenCalledTimes(3);
      } finally {
        parse.mockRestore();
      }
      expect(
        JSON.parse(JSON.stringify(events[1], (_k, v: unknown) => (typeof v === 'bigint' ? String(v) : v))),
      ).toEqual({
        streamId: 'acct-lazy',
        revision: '1',
        position: String(events[1].position),
        type: appended[1].type,
        data: appended[1].data,
        metadata: appended[1].metadata,
      });
    } finally {
      await store.close();
    }
  });

  describe('rows kept after appending (readers in the same process read them from memory)', () => {
    const summary = (b: { events: RecordedEvent[]; checkpoint: bigint }) => ({
      checkpoint: b.checkpoint,
      events: b.events.map((e) => [e.position, e.streamId, e.revision, e.type, e.data, e.metadata]),
    });
    const sqlReads = (store: SqliteEventStore) => {
      const stmts = (store as unknown as { stmts: { readAll: { all: (...args: unknown[]) => unknown } } })
        .stmts;
      return jest.spyOn(stmts.readAll, 'all');
    };

    it('given two stores appending to one file in turns, when either reads the tail with any filter and size, then it reads what a store that never appended reads', async () => {
      const file = join(dir, 'recent.db');
      const a = new SqliteEventStore(file);
      const b = new SqliteEventStore(file);
      const reference = new SqliteEventStore(file);
      let seed = 7;
      const rand = (n: number) => {
        seed = (seed * 1103515245 + 12345) % 2 ** 31;
        return seed % n;
      };
      const typed = (type: string) => ({ ...usageEvent(String(rand(100))), type });
      const streams = ['acct-1', 'acct-2', 'team-1', 'team-2', 'user-1'];
      const filters = [
        undefined,
        { eventTypes: ['TypeA'] },
        { eventTypes: ['TypeA', 'TypeC'] },
        { streamPrefixes: ['acct-'] },
        { eventTypes: ['TypeB'], streamPrefixes: ['team-', 'user-'] },
      ];
      try {
        for (let step = 0; step < 200; step++) {
          const writer = rand(3) === 0 ? b : a;
          const writes = Array.from({ length: 1 + rand(3) }, () => ({
            streamId: streams[rand(streams.length)],
            events: Array.from({ length: 1 + rand(3) }, () => typed(['TypeA', 'TypeB', 'TypeC'][rand(3)])),
            // Now and then a write that fails on its expected revision (appendMany still stores the others).
            expected: rand(5) === 0 ? (99n as bigint | 'any') : ('any' as const),
          }));
          if (writes.length === 1 && writes[0].expected === 'any')
            await writer.append(writes[0].streamId, writes[0].events, 'any');
          else await writer.appendMany(writes);
          const head = Number(await reference.headPosition());
          for (const reader of [a, b]) {
            const after = BigInt(Math.max(-1, head - 1 - rand(12)));
            const filter = filters[rand(filters.length)];
            const maxCount = [1, 2, 5, 1000][rand(4)];
            expect(summary(await reader.readAll({ after, filter, maxCount }))).toEqual(
              summary(await reference.readAll({ after, filter, maxCount })),
            );
          }
        }
      } finally {
        await a.close();
        await b.close();
        await reference.close();
      }
    });

    it('given a store that appended last, when it reads after its own rows, then no range is read from SQL; after another store appended, then it is', async () => {
      const file = join(dir, 'recent-sql.db');
      const a = new SqliteEventStore(file);
      const b = new SqliteEventStore(file);
      try {
        await a.readAll({ after: -1n }); // a reader near the tail: appended rows are kept from now on
        await a.appendMany([
          { streamId: 'acct-1', events: [usageEvent('1'), usageEvent('2')], expected: 'no_stream' },
          { streamId: 'acct-2', events: [usageEvent('3')], expected: 'no_stream' },
        ]);
        const reads = sqlReads(a);
        const own = await a.readAll({ after: 0n });
        expect(own.events.map((e) => [e.position, e.streamId, e.revision])).toEqual([
          [1n, 'acct-1', 0n],
          [2n, 'acct-1', 1n],
          [3n, 'acct-2', 0n],
        ]);
        expect(own.checkpoint).toBe(3n);
        expect(own.events[0].data).toEqual(usageEvent('1').data);
        expect(reads).not.toHaveBeenCalled();
        await b.append('acct-3', [usageEvent('4')], 'no_stream');
        const after = await a.readAll({ after: 3n });
        expect(after.events.map((e) => e.streamId)).toEqual(['acct-3']);
        expect(reads).toHaveBeenCalledTimes(1);
      } finally {
        await a.close();
        await b.close();
      }
    });
  });
});
