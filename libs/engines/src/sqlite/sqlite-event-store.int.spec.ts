import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConflictError } from '@purser/core';
import { eventStoreContract, usageEvent } from '../../../../test/contracts/event-store.contract';
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
});
