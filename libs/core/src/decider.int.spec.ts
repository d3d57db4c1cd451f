import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SqliteEventStore } from '@purser/engines';
import { Decider } from './decider';
import { CommandExecutor } from './command-executor';
import { EventRegistry } from './registry';
import { SYSTEM_ACTOR } from './events';

type Added = { type: 'Added'; data: { n: number } };
const counter: Decider<{ n: number }, number, Added> = {
  initialState: () => 0,
  decide: (c) => [{ type: 'Added', data: { n: c.n } }],
  evolve: (s, e) => s + e.data.n,
};
const ctx = { actor: SYSTEM_ACTOR, correlationId: 'c', now: '2026-11-25T00:00:00.000Z' };

/** Cached states caught up from $all (catchUp/recent), as the quota checks use them. */
describe('command executor: catch-up and recent states (SQLite event store)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'purser-exec-'));
  let store: SqliteEventStore;
  let registry: EventRegistry;
  let mine: CommandExecutor;
  /** Another API instance writing the same store. */
  let other: CommandExecutor;

  beforeEach(() => {
    store = new SqliteEventStore(join(dir, `${Date.now()}-${Math.random()}.sqlite`));
    registry = new EventRegistry();
    registry.registerAll(['Added']);
    mine = new CommandExecutor(store, registry);
    other = new CommandExecutor(store, registry);
  });
  afterEach(() => store.close());
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  const add = (ex: CommandExecutor, stream: string, n: number) =>
    ex.execute(stream, counter, { n }, ctx, { orgId: null });

  it('given a state cached before the first catch-up, when another instance appends, then recent() reads the tail until a catch-up vouches for the cache', async () => {
    await add(mine, 's-1', 1);
    await add(other, 's-1', 10);
    expect((await mine.recent('s-1', counter)).state).toBe(11);
  });

  it('given a caught-up cache, when another instance appends, then recent() answers from the cache without reading, and the next catch-up folds the new event from $all', async () => {
    await add(mine, 's-1', 1);
    await mine.catchUp();
    expect((await mine.recent('s-1', counter)).state).toBe(1);
    await add(other, 's-1', 10);
    const reads = jest.spyOn(store, 'readStream');
    expect(await mine.recent('s-1', counter)).toMatchObject({ state: 1, revision: 0n });
    await mine.catchUp();
    expect(await mine.recent('s-1', counter)).toMatchObject({ state: 11, revision: 1n });
    expect(reads).not.toHaveBeenCalled();
  });

  it('given a cached state, when asked at the revision the store reports, then it answers without reading; at a newer revision it reads the new events', async () => {
    await add(mine, 's-1', 1);
    await mine.current('s-1', counter);
    const reads = jest.spyOn(store, 'readStream');
    expect(await mine.atRevision('s-1', counter, 0n)).toMatchObject({ state: 1, revision: 0n });
    expect(reads).not.toHaveBeenCalled();
    await add(other, 's-1', 10);
    reads.mockClear();
    const revision = (await store.streamRevisions(['s-1'])).get('s-1')!;
    expect(await mine.atRevision('s-1', counter, revision)).toMatchObject({ state: 11, revision: 1n });
    expect(reads).toHaveBeenCalledTimes(1);
  });

  it('given a stream that does not exist yet, when another instance creates it, then the catch-up folds its first event', async () => {
    await mine.catchUp();
    expect((await mine.recent('s-new', counter)).revision).toBe(-1n);
    await add(other, 's-new', 5);
    await mine.catchUp();
    expect(await mine.recent('s-new', counter)).toMatchObject({ state: 5, revision: 0n });
  });

  it('given a state remembered as incomplete (a rolled-back batch), then recent() reads its tail before trusting it', async () => {
    await add(mine, 's-1', 1);
    await mine.catchUp();
    const { position } = await mine.recent('s-1', counter);
    await add(other, 's-1', 10);
    await mine.catchUp();
    // What a failed batch leaves behind: the state at the revision it was read at, not vouched for.
    mine.remember('s-1', counter, { state: 1, revision: 0n, position }, false);
    expect(await mine.recent('s-1', counter)).toMatchObject({ state: 11, revision: 1n });
  });

  it('given a read of a stream under way while a catch-up completes, then that state is not trusted without another read', async () => {
    await add(mine, 's-1', 1);
    await mine.catchUp();
    mine.forget('s-1');
    const read = store.readStream.bind(store);
    jest.spyOn(store, 'readStream').mockImplementationOnce(async (id, opts) => {
      const events = await read(id, opts);
      // Another instance appends and this instance catches up while the read is in flight.
      await add(other, 's-1', 10);
      await mine.catchUp();
      return events;
    });
    expect((await mine.current('s-1', counter)).state).toBe(1);
    expect(await mine.recent('s-1', counter)).toMatchObject({ state: 11, revision: 1n });
  });
});
