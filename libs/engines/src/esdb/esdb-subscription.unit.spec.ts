import { PassThrough } from 'node:stream';
import {
  AllStreamRecordedEvent,
  AllStreamResolvedEvent,
  AllStreamSubscription,
  ReadPosition,
  START,
} from '@eventstore/db-client';
import { AllBatch } from '@purser/core';
import { EsdbSubscription } from './esdb-event-store';
import { commits, ev } from './testing/esdb-fixtures';

// Server-free tests of the adapter's own logic (fixtures in testing/esdb-fixtures.ts); the contract suite runs
// against a real server in esdb-event-store.int.spec.ts.

describe('EventStoreDB adapter: subscription loop (with a stand-in stream, no server)', () => {
  class FakeStream extends PassThrough {
    unsubscribed = false;
    constructor() {
      super({ objectMode: true });
    }
    async unsubscribe(): Promise<void> {
      this.unsubscribed = true;
    }
  }
  const resolved = (e: AllStreamRecordedEvent): AllStreamResolvedEvent => ({
    event: e,
    commitPosition: e.position.commit,
  });
  const until = async (check: () => boolean) => {
    const deadline = Date.now() + 2000;
    while (!check()) {
      if (Date.now() > deadline) throw new Error('condition not reached');
      await new Promise((r) => setTimeout(r, 2));
    }
  };

  function source(streams: FakeStream[], starts: bigint[]) {
    let i = 0;
    return {
      resolveStart: async (after: bigint): Promise<ReadPosition> => {
        starts.push(after);
        return after < 0n ? START : { commit: after, prepare: after };
      },
      open: (): AllStreamSubscription => streams[i++] as unknown as AllStreamSubscription,
    };
  }

  it('hands buffered events over in batches, never two handler calls at once, checkpoint passing filtered events', async () => {
    const stream = new FakeStream();
    for (const c of [10n, 20n, 30n, 40n, 50n])
      stream.write(resolved(ev(c, { type: c === 30n ? 'Other' : 'Usage' })));
    const batches: AllBatch[] = [];
    let running = 0;
    let overlapped = false;
    const sub = new EsdbSubscription(
      source([stream], []),
      { after: -1n, batchSize: 2, filter: { eventTypes: ['Other'] } },
      async (b) => {
        overlapped ||= running > 0;
        running++;
        await new Promise((r) => setTimeout(r, 5));
        batches.push(b);
        running--;
      },
      {},
    );
    await until(() => batches.at(-1)?.checkpoint === 50n);
    await sub.stop();
    await expect(sub.done).resolves.toBeUndefined();
    expect(overlapped).toBe(false);
    expect(batches.map((b) => b.checkpoint)).toEqual([20n, 40n, 50n]);
    expect(batches.flatMap(commits)).toEqual([30n]);
    expect(stream.unsubscribed).toBe(true);
  });

  it('given a connection drop, then it resubscribes from the last handled checkpoint and repeats nothing', async () => {
    const first = new FakeStream();
    const second = new FakeStream();
    const starts: bigint[] = [];
    const seen: bigint[] = [];
    const drops: unknown[] = [];
    const sub = new EsdbSubscription(
      source([first, second], starts),
      { after: -1n, batchSize: 10 },
      async (b) => {
        seen.push(...commits(b));
      },
      { initialDelayMs: 1 },
      (err) => drops.push(err),
    );
    first.write(resolved(ev(10n)));
    first.write(resolved(ev(20n)));
    await until(() => seen.length === 2);
    first.emit('error', new Error('connection reset'));
    // The server sends again from the resume position, inclusive: 20 must not come twice.
    second.write(resolved(ev(20n)));
    second.write(resolved(ev(30n)));
    await until(() => seen.length >= 3);
    await sub.stop();
    expect(seen).toEqual([10n, 20n, 30n]);
    expect(starts).toEqual([-1n, 20n]);
    expect(drops).toHaveLength(1);
  });

  it('given a handler that throws, then done rejects with its error and the handler is not called again', async () => {
    const stream = new FakeStream();
    let calls = 0;
    const sub = new EsdbSubscription(
      source([stream], []),
      { after: -1n, batchSize: 1 },
      async () => {
        calls++;
        throw new Error('projection bug');
      },
      {},
    );
    stream.write(resolved(ev(10n)));
    stream.write(resolved(ev(20n)));
    await expect(sub.done).rejects.toThrow('projection bug');
    await sub.stop();
    expect(calls).toBe(1);
  });

  it('given a subscription waiting for events, then stop() ends it at once', async () => {
    const stream = new FakeStream();
    const sub = new EsdbSubscription(
      source([stream], []),
      { after: 5n, batchSize: 10 },
      async () => undefined,
      {},
    );
    await new Promise((r) => setTimeout(r, 10));
    await sub.stop();
    await expect(sub.done).resolves.toBeUndefined();
  });

  it('given a stream that keeps failing, then it gives up after maxAttempts and done rejects', async () => {
    const streams = [new FakeStream(), new FakeStream()];
    const sub = new EsdbSubscription(
      source(streams, []),
      { after: -1n, batchSize: 10 },
      async () => undefined,
      {
        initialDelayMs: 1,
        maxAttempts: 2,
      },
    );
    await until(() => streams[0].listenerCount('error') > 0);
    streams[0].emit('error', new Error('unavailable'));
    await until(() => streams[1].listenerCount('error') > 0);
    streams[1].emit('error', new Error('still unavailable'));
    await expect(sub.done).rejects.toThrow('still unavailable');
  });
});
