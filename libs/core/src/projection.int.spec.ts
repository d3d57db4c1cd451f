import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SqliteEventStore, SqliteReadStore } from '@purser/engines';
import { usageEvent } from '@purser/testkit';
import { eventually } from '@purser/testkit';
import { EventRegistry } from './registry';
import { PositionWaiter, Projection, ProjectionRunner, positionGuard } from './projection';
import { RecordedEvent } from './events';
import { ReadStore } from './read-store.port';
import { padPosition } from './position';
import { NotReadyError } from './errors';

const quiet = { info: () => undefined, warn: () => undefined, error: () => undefined };

/** Counts events per stream: an idempotent, position-guarded projection. */
class CountingProjection implements Projection {
  readonly name = 'counting';
  readonly collections = [{ name: 'counts' }];
  failNext = 0;
  calls = 0;
  async handle(events: RecordedEvent[], store: ReadStore): Promise<void> {
    this.calls++;
    if (this.failNext > 0) {
      this.failNext--;
      throw new Error('read store unavailable');
    }
    for (const e of events) {
      await store.update(
        'counts',
        e.streamId,
        { $inc: { n: 1 }, $set: { _pos: padPosition(e.position) } },
        { upsert: true, guard: positionGuard(e.position) },
      );
    }
  }
}

describe('projection runner (SQLite event store and read store)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'purser-proj-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('given a handler that fails, then the projection is marked failed, restarts from its checkpoint and misses nothing', async () => {
    const events = new SqliteEventStore(join(dir, 'e1.db'), { pollIntervalMs: 20 });
    const store = new SqliteReadStore(join(dir, 'r1.db'));
    const p = new CountingProjection();
    const runner = new ProjectionRunner(events, store, new EventRegistry(), [p], quiet);
    p.failNext = 1;
    await events.append('a-1', [usageEvent('1'), usageEvent('2')], 'no_stream');
    await runner.start();
    await eventually(
      () => runner.status()[0].state,
      (s) => s === 'failed',
      { what: 'failed state' },
    );
    expect(runner.status()[0].error).toBe('read store unavailable');
    const last = await events.append('a-1', [usageEvent('3')], 1n);
    await new PositionWaiter(runner.checkpoints, runner).waitFor(last.position, ['counting'], 5000);
    expect((await store.get('counts', 'a-1'))?.n).toBe(3);
    expect(runner.status()[0].state).toBe('running');
    await runner.stop();
    await events.close();
    await store.close();
  });

  it('given a projection stopped and started again (a restart), then it resumes from its checkpoint without reapplying', async () => {
    const events = new SqliteEventStore(join(dir, 'e2.db'), { pollIntervalMs: 20 });
    const store = new SqliteReadStore(join(dir, 'r2.db'));
    let p = new CountingProjection();
    let runner = new ProjectionRunner(events, store, new EventRegistry(), [p], quiet);
    await runner.start();
    const a = await events.append('b-1', [usageEvent('1'), usageEvent('2')], 'no_stream');
    await new PositionWaiter(runner.checkpoints, runner).waitFor(a.position, ['counting'], 5000);
    await runner.stop();
    const b = await events.append('b-1', [usageEvent('3')], 1n);
    p = new CountingProjection();
    runner = new ProjectionRunner(events, store, new EventRegistry(), [p], quiet);
    await runner.start();
    await new PositionWaiter(runner.checkpoints, runner).waitFor(b.position, ['counting'], 5000);
    expect((await store.get('counts', 'b-1'))?.n).toBe(3);
    // Rebuild from zero gives the same answer.
    const res = await runner.rebuild('counting');
    expect(res.handled).toBe(3);
    expect((await store.get('counts', 'b-1'))?.n).toBe(3);
    await runner.stop();
    await events.close();
    await store.close();
  });

  it('given projections spread over two processes, when each runner starts only its own, then each read model is built once and unknown names are refused', async () => {
    const events = new SqliteEventStore(join(dir, 'e4.db'), { pollIntervalMs: 20 });
    const store = new SqliteReadStore(join(dir, 'r4.db'));
    const other = Object.assign(new CountingProjection(), { name: 'other' });
    const mine = new CountingProjection();
    const one = new ProjectionRunner(events, store, new EventRegistry(), [mine, other], quiet);
    await expect(one.start(['counting', 'nope'])).rejects.toThrow(
      'unknown projection(s) nope; known: counting, other',
    );
    await one.start(['counting']);
    const a = await events.append('d-1', [usageEvent('1')], 'no_stream');
    await new PositionWaiter(one.checkpoints, one).waitFor(a.position, ['counting'], 5000);
    expect(mine.calls).toBeGreaterThan(0);
    expect(other.calls).toBe(0);
    expect(one.status().map((s) => [s.name, s.state])).toEqual([
      ['counting', 'running'],
      ['other', 'stopped'],
    ]);
    // The other process's runner, on the same stores, runs the other one; a waiter reads its checkpoint from the store.
    const two = new ProjectionRunner(events, store, new EventRegistry(), [mine, other], quiet);
    await two.start(['other']);
    await new PositionWaiter(one.checkpoints, one).waitFor(a.position, ['other'], 5000);
    expect(other.calls).toBeGreaterThan(0);
    await one.stop();
    await two.stop();
    await events.close();
    await store.close();
  });

  it('given a position the projections have not reached, when waiting, then NotReadyError after the bound', async () => {
    const events = new SqliteEventStore(join(dir, 'e3.db'));
    const store = new SqliteReadStore(join(dir, 'r3.db'));
    const runner = new ProjectionRunner(
      events,
      store,
      new EventRegistry(),
      [new CountingProjection()],
      quiet,
    );
    await runner.prepare();
    await expect(
      new PositionWaiter(runner.checkpoints, null).waitFor(10n, ['counting'], 100),
    ).rejects.toBeInstanceOf(NotReadyError);
    await events.close();
    await store.close();
  });
});
