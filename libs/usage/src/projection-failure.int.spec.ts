import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  CommandExecutor,
  EventRegistry,
  NotReadyError,
  PositionWaiter,
  Projection,
  ReadStore,
  RecordedEvent,
  padPosition,
  positionGuard,
} from '@purser/core';
import { SqliteEventStore, SqliteReadStore } from '@purser/engines';
import { Metrics, ProjectionHost, ProjectionRegistry, PurserLogger, loadConfig } from '@purser/platform';
import { CachedDirectoryLookup } from '@purser/directory';
import { usageEvent } from '@purser/testkit';
import { eventually } from '@purser/testkit';
import { UsageIngest } from './ingest';

/** Sums amounts per stream; fails on the amount "poison" while `broken` (a bug in a projection). */
class SummingProjection implements Projection {
  broken = true;
  readonly collections: Array<{ name: string }>;
  constructor(readonly name: string) {
    this.collections = [{ name: `${name}_sums` }];
  }
  readonly filter = { eventTypes: ['TestUsageRecorded', 'UsageRecorded'] };
  async handle(events: RecordedEvent[], store: ReadStore): Promise<void> {
    for (const e of events) {
      const { amount } = e.data as { amount: string };
      if (amount === 'poison' && this.broken) throw new Error(`cannot sum ${amount}`);
      await store.update(
        `${this.name}_sums`,
        e.streamId,
        { $inc: { n: 1 }, $set: { _pos: padPosition(e.position) } },
        { upsert: true, guard: positionGuard(e.position) },
      );
    }
  }
}

function logger() {
  const lines: Array<{ level: string; obj: Record<string, unknown>; msg: string }> = [];
  const at =
    (level: string) =>
    (obj: Record<string, unknown>, msg: string): void => {
      lines.push({ level, obj, msg });
    };
  return {
    lines,
    log: { info: at('info'), warn: at('warn'), error: at('error') } as unknown as PurserLogger,
  };
}

describe('a projection that fails (a bug) on the embedded engines', () => {
  const dir = mkdtempSync(join(tmpdir(), 'purser-fail-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('given a batch whose middle event a projection cannot handle, then /health-level status names that event, ingest does not wait on it, and minPosition reads answer 503 at once', async () => {
    const events = new SqliteEventStore(join(dir, 'e.db'), { pollIntervalMs: 20 });
    const store = new SqliteReadStore(join(dir, 'r.db'));
    const broken = new SummingProjection('broken');
    const healthy = new SummingProjection('healthy');
    healthy.broken = false;
    const projections = new ProjectionRegistry();
    projections.register(broken, healthy);
    const { lines, log } = logger();
    // Back-pressure from one position of lag, waiting up to ten minutes: waiting on the failed projection would time
    // the test out.
    const config = loadConfig({ PURSER_INGEST_MAX_LAG: '1', PURSER_INGEST_MAX_WAIT_MS: '600000' });
    const host = new ProjectionHost(
      events,
      store,
      new EventRegistry(),
      projections,
      new Metrics(),
      log,
      true,
      config,
      1000,
    );
    // The three events land in one batch: the failure must still name the middle one.
    const ok1 = usageEvent('1');
    const poison = usageEvent('poison');
    await events.append('usage-a', [ok1, poison, usageEvent('2')], 'no_stream');
    const poisonPosition = (await events.readStream('usage-a')).find(
      (e) => e.metadata.eventId === poison.metadata.eventId,
    )!.position;
    await host.onApplicationBootstrap();
    const runner = host.get();

    const stuck = await eventually(
      () => host.status(),
      (s) => (s.projections.find((p) => p.name === 'broken')?.failure?.attempts ?? 0) >= 2,
      { what: 'the failure isolated on the retry' },
    );
    const failed = stuck.projections.find((p) => p.name === 'broken')!;
    expect(failed).toMatchObject({
      state: 'failed',
      error: 'cannot sum poison',
      checkpoint: (poisonPosition - 1n).toString(), // the event before it was handled
      failure: {
        projection: 'broken',
        error: 'cannot sum poison',
        position: poisonPosition.toString(),
        event: {
          type: 'TestUsageRecorded',
          eventId: poison.metadata.eventId,
          streamId: 'usage-a',
          position: poisonPosition.toString(),
        },
      },
    });
    expect(stuck.projections.find((p) => p.name === 'healthy')).toMatchObject({ state: 'running', lag: '0' });
    expect(
      lines.some(
        (l) =>
          l.level === 'error' &&
          (l.obj.event as { eventId?: string } | null)?.eventId === poison.metadata.eventId &&
          l.obj.position === poisonPosition.toString() &&
          l.msg.includes('projection broken failed on event TestUsageRecorded'),
      ),
    ).toBe(true);

    // More appends: the failed projection falls further behind; back-pressure waits on the healthy one only.
    const later = await events.append(
      'usage-b',
      [usageEvent('3'), usageEvent('4'), usageEvent('5')],
      'no_stream',
    );
    await new PositionWaiter(runner.checkpoints, runner).waitFor(later.position, ['healthy'], 10_000);
    expect(await host.lagFor('TestUsageRecorded')).toBe(0n);
    const executor = new CommandExecutor(events, new EventRegistry());
    const ingest = new UsageIngest(
      new CachedDirectoryLookup(executor, events),
      executor,
      events,
      host,
      config,
      log,
    );
    for (let i = 0; i < 3; i++) {
      const res = await ingest.record([{ eventId: `e-${i}` }], {
        actor: { type: 'system', id: 'test' },
        correlationId: 'c',
        causationId: null,
        now: new Date().toISOString(),
      });
      expect(res.rejected).toBe(1); // malformed on purpose: what matters is that it was not held
    }
    const skipped = lines.filter((l) => l.msg.includes('back-pressure does not wait on it'));
    expect(skipped).toHaveLength(1); // once per failure, not per request
    expect(skipped[0].obj).toMatchObject({ projection: 'broken', position: poisonPosition.toString() });

    // A read waiting for the failed projection: 503 at once naming it (the bound would be a minute), locally and from
    // another process (the failure is saved next to the checkpoint).
    for (const waiter of [
      new PositionWaiter(runner.checkpoints, runner),
      new PositionWaiter(runner.checkpoints, null),
    ]) {
      const err = await waiter
        .waitFor(later.position, ['healthy', 'broken'], 600_000)
        .catch((e: unknown) => e);
      expect(err).toBeInstanceOf(NotReadyError);
      expect((err as NotReadyError).message).toContain(
        `projection broken failed on event TestUsageRecorded ${poison.metadata.eventId} (stream usage-a) at position ${poisonPosition}: cannot sum poison`,
      );
      expect((err as NotReadyError).details).toEqual([
        expect.objectContaining({ problem: 'projection failed', projection: 'broken' }),
      ]);
    }
    expect((await runner.checkpoints.read('broken')).failure?.event?.eventId).toBe(poison.metadata.eventId);

    // The bug fixed: the retry gets past it, the failure is cleared everywhere, nothing was skipped.
    broken.broken = false;
    // (A waiter would answer 503 until the retry runs: the projection is known stuck until then.)
    const after = await eventually(
      () => host.status(),
      (st) => st.projections.find((p) => p.name === 'broken')?.checkpoint === later.position.toString(),
      { what: 'the fixed projection caught up' },
    );
    expect(after.projections.find((p) => p.name === 'broken')).toMatchObject({ state: 'running' });
    expect(after.projections.find((p) => p.name === 'broken')).not.toHaveProperty('failure');
    expect((await runner.checkpoints.read('broken')).failure).toBeNull();
    expect((await store.get<{ _id: string; n: number }>('broken_sums', 'usage-a'))?.n).toBe(3);
    expect((await store.get<{ _id: string; n: number }>('broken_sums', 'usage-b'))?.n).toBe(3);

    await host.onApplicationShutdown();
    await events.close();
    await store.close();
  }, 30_000);
});
