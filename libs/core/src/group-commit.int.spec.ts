import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SqliteEventStore } from '@purser/engines';
import { Decider } from './decider';
import { CommandExecutor } from './command-executor';
import { EventRegistry } from './registry';
import { CommandContext, SYSTEM_ACTOR } from './events';
import { StaleStateError, WrongExpectedVersionError } from './errors';
import { Decided, GroupCommit, GroupCommitHandler, PendingCommand, StreamWork } from './group-commit';
import { StateCache } from './state-cache';

type Added = { type: 'Added'; data: { n: number } };
const counter: Decider<never, number, Added> = {
  initialState: () => 0,
  decide: () => [],
  evolve: (s, e) => s + e.data.n,
};
const ctx: CommandContext = { actor: SYSTEM_ACTOR, correlationId: 'c', now: '2026-11-25T00:00:00.000Z' };
const added = (n: number): Added => ({ type: 'Added', data: { n } });

/** Adds numbers to one or more counter streams; answers each stream's value after its additions, and a position. */
interface Add extends PendingCommand<Answer> {
  adds: Array<{ streamId: string; n: number }>;
}
interface Answer {
  values: Record<string, number>;
  position: bigint;
}

/**
 * A group-commit handler over counter streams. What it was asked to compensate and unfold is recorded; decideFails
 * makes the next decide passes throw (as a superseded cached state does).
 */
class Counters implements GroupCommitHandler<Add, Add, number, Added, Record<string, number>, Answer> {
  readonly decider = counter;
  readonly compensated: Array<{ landed: string[] }> = [];
  readonly unfolded: Array<{ state: number; notAppended: number[] }> = [];
  decideFails = 0;

  constructor(private readonly store: SqliteEventStore) {}

  plan(command: Add): Promise<Add> {
    if (command.adds.some((a) => !Number.isInteger(a.n))) return Promise.reject(new Error('not an integer'));
    return Promise.resolve(command);
  }
  streamsOf(plan: Add) {
    return plan.adds;
  }
  decide(plan: Add, work: ReadonlyMap<string, StreamWork<number, Added>>): Decided<Record<string, number>> {
    if (this.decideFails > 0) {
      this.decideFails--;
      throw new StaleStateError('superseded');
    }
    const values: Record<string, number> = {};
    const streams = new Set<StreamWork<number, Added>>();
    for (const { streamId, n } of plan.adds) {
      const w = work.get(streamId)!;
      w.apply([added(n)], plan.ctx, plan.orgId);
      values[streamId] = w.state;
      streams.add(w);
    }
    return { streams: [...streams], result: values, holds: true };
  }
  finish(values: Record<string, number>, position: bigint): Answer {
    return { values, position };
  }
  async compensate(plan: Add, landed: string[]): Promise<void> {
    this.compensated.push({ landed });
    for (const streamId of landed) {
      const n = plan.adds.filter((a) => a.streamId === streamId).reduce((s, a) => s + a.n, 0);
      await this.store.append(streamId, [other(-n)], 'any');
    }
  }
  unfold(state: number, notAppended: Added[]): number {
    this.unfolded.push({ state, notAppended: notAppended.map((e) => e.data.n) });
    return notAppended.reduce((s, e) => s - e.data.n, state);
  }
}

/** An event appended by another process, behind the group commit's back. */
function other(n: number) {
  return {
    ...added(n),
    metadata: {
      eventId: `other-${Math.random()}`,
      correlationId: 'other',
      causationId: null,
      actor: SYSTEM_ACTOR,
      occurredAt: ctx.now,
      schemaVersion: 1,
      orgId: null,
    },
  };
}

describe('group commit (SQLite event store)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'purser-group-'));
  let store: SqliteEventStore;
  let executor: CommandExecutor;
  let states: StateCache;
  let handler: Counters;

  beforeEach(() => {
    store = new SqliteEventStore(join(dir, `${Date.now()}-${Math.random()}.sqlite`));
    executor = new CommandExecutor(store, new EventRegistry().registerAll(['Added']));
    states = executor.states;
    handler = new Counters(store);
  });
  afterEach(() => store.close());
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  const groupCommit = (maxRetries = 3) =>
    new GroupCommit(handler, states, executor.stamper, store, { maxBatch: 100, maxRetries });

  /** Submits a command; its answer, and the command itself (to read its attempts). */
  const submit = (
    gc: GroupCommit<Add, Add, number, Added, Record<string, number>, Answer>,
    adds: Add['adds'],
  ) => {
    let command!: Add;
    const answer = new Promise<Answer>((resolve, reject) => {
      command = { ctx, orgId: null, attempts: 0, adds, resolve, reject };
    });
    gc.submit(command);
    return { answer, command };
  };

  const values = async (streamId: string) =>
    (await store.readStream(streamId)).map((r) => (r.data as { n: number }).n);

  /** The next appendMany calls (all, with `times` Infinity) find `streamId` moved on by another process first. */
  const conflictOn = (streamId: string, times: number) => {
    const appendMany = store.appendMany.bind(store);
    let left = times;
    return jest.spyOn(store, 'appendMany').mockImplementation(async (writes) => {
      if (left-- > 0) await store.append(streamId, [other(100)], 'any');
      return appendMany(writes);
    });
  };

  it('given commands submitted together, when the batch commits, then one appendMany writes each stream once with the revision read, and each command sees those before it', async () => {
    await store.append('s-1', [other(1)], 'no_stream');
    const appendMany = jest.spyOn(store, 'appendMany');
    const gc = groupCommit();

    const a = submit(gc, [{ streamId: 's-1', n: 2 }]);
    const b = submit(gc, [{ streamId: 's-1', n: 3 }]);
    const c = submit(gc, [{ streamId: 's-new', n: 5 }]);

    expect((await a.answer).values).toEqual({ 's-1': 3 });
    expect((await b.answer).values).toEqual({ 's-1': 6 });
    expect((await c.answer).values).toEqual({ 's-new': 5 });
    expect(appendMany).toHaveBeenCalledTimes(1);
    expect(appendMany.mock.calls[0][0].map((w) => [w.streamId, w.expected, w.events.length])).toEqual([
      ['s-1', 0n, 2],
      ['s-new', 'no_stream', 1],
    ]);
    expect(await values('s-1')).toEqual([1, 2, 3]);
    expect(await values('s-new')).toEqual([5]);
    const tail = (await store.readStream('s-1'))[2];
    expect((await b.answer).position).toBe(tail.position);
    expect(tail.metadata).toMatchObject({ actor: SYSTEM_ACTOR, correlationId: 'c', occurredAt: ctx.now });
  });

  it('given a trusted cached state, when another process appends before the batch lands, then the batch rolls the cached state back and decides again on the stream as it is', async () => {
    await store.append('s-1', [other(1)], 'no_stream');
    await states.current('s-1', counter);
    await states.catchUp();
    const appendMany = conflictOn('s-1', 1);
    const gc = groupCommit();

    const { answer, command } = submit(gc, [{ streamId: 's-1', n: 2 }]);

    expect((await answer).values).toEqual({ 's-1': 103 });
    expect(command.attempts).toBe(1);
    expect(appendMany).toHaveBeenCalledTimes(2);
    expect(appendMany.mock.calls[1][0][0].expected).toBe(1n);
    expect(handler.unfolded).toEqual([{ state: 3, notAppended: [2] }]);
    expect(await values('s-1')).toEqual([1, 100, 2]);
    expect(await states.recent('s-1', counter)).toMatchObject({ state: 103, revision: 2n });
  });

  it('given a stream that moves before every append, when the retries run out, then the command fails with the version conflict after maxRetries + 1 attempts and nothing of it is stored', async () => {
    await store.append('s-1', [other(1)], 'no_stream');
    const appendMany = conflictOn('s-1', Infinity);
    const gc = groupCommit(2);

    const { answer, command } = submit(gc, [
      { streamId: 's-1', n: 2 },
      { streamId: 's-1', n: 3 },
    ]);

    await expect(answer).rejects.toBeInstanceOf(WrongExpectedVersionError);
    expect(command.attempts).toBe(3);
    expect(appendMany).toHaveBeenCalledTimes(3);
    expect(await values('s-1')).toEqual([1, 100, 100, 100]);
    // The cached state is what the store holds, not what was folded and refused.
    expect((await states.recent('s-1', counter)).state).toBe(301);
  });

  it('given a command on two streams of which one moved, when the batch lands, then what landed is compensated, the other commands of the batch stand, and the command is decided again', async () => {
    await store.append('s-b', [other(1)], 'no_stream');
    conflictOn('s-b', 1);
    const gc = groupCommit();

    const both = submit(gc, [
      { streamId: 's-a', n: 4 },
      { streamId: 's-b', n: 5 },
    ]);
    const alone = submit(gc, [{ streamId: 's-c', n: 7 }]);

    expect((await both.answer).values).toEqual({ 's-a': 4, 's-b': 106 });
    expect((await alone.answer).values).toEqual({ 's-c': 7 });
    expect(handler.compensated).toEqual([{ landed: ['s-a'] }]);
    expect(await values('s-a')).toEqual([4, -4, 4]);
    expect(await values('s-b')).toEqual([1, 100, 5]);
    expect(await values('s-c')).toEqual([7]);
  });

  it('given no retries allowed, when one stream of a command moved, then it fails, what landed of it is compensated, and the moved stream holds none of its events', async () => {
    await store.append('s-b', [other(1)], 'no_stream');
    conflictOn('s-b', 1);
    const gc = groupCommit(0);

    const { answer } = submit(gc, [
      { streamId: 's-a', n: 4 },
      { streamId: 's-b', n: 5 },
      { streamId: 's-b', n: 6 },
    ]);

    await expect(answer).rejects.toBeInstanceOf(WrongExpectedVersionError);
    expect(await values('s-a')).toEqual([4, -4]);
    expect(await values('s-b')).toEqual([1, 100]);
    expect(handler.unfolded).toEqual([{ state: 12, notAppended: [5, 6] }]);
  });

  it('given a decide pass that meets a superseded state, when the batch runs, then nothing is appended by that pass and every command of it is decided again', async () => {
    handler.decideFails = 1;
    const appendMany = jest.spyOn(store, 'appendMany');
    const gc = groupCommit();

    const a = submit(gc, [{ streamId: 's-1', n: 2 }]);
    const b = submit(gc, [{ streamId: 's-1', n: 3 }]);

    expect((await a.answer).values).toEqual({ 's-1': 2 });
    expect((await b.answer).values).toEqual({ 's-1': 5 });
    expect(a.command.attempts).toBe(1);
    expect(b.command.attempts).toBe(1);
    expect(appendMany).toHaveBeenCalledTimes(1);
    expect(await values('s-1')).toEqual([2, 3]);
  });

  it('given a command its handler refuses to plan, when submitted with others, then it alone fails and the others commit', async () => {
    const gc = groupCommit();

    const bad = submit(gc, [{ streamId: 's-1', n: 1.5 }]);
    const good = submit(gc, [{ streamId: 's-1', n: 2 }]);

    await expect(bad.answer).rejects.toThrow('not an integer');
    expect((await good.answer).values).toEqual({ 's-1': 2 });
    expect(await values('s-1')).toEqual([2]);
  });
});
