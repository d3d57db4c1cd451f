import { PassThrough } from 'node:stream';
import {
  AllStreamRecordedEvent,
  AllStreamResolvedEvent,
  AllStreamSubscription,
  END,
  FORWARDS,
  Position,
  ReadPosition,
  START,
} from '@eventstore/db-client';
import { AllBatch } from '@purser/core';
import {
  AllScanner,
  EsdbEventStore,
  EsdbSubscription,
  PURSER_EVENT_ID_NAMESPACE,
  PageReader,
  backoffDelay,
  comparePositions,
  describeActual,
  describeExpected,
  findAnchor,
  findStoredRun,
  isSystemEvent,
  lastNonSystemPosition,
  mapWithConcurrency,
  matchesFilter,
  scanForward,
  takeBatch,
  toEsdbEventId,
  toEventData,
  toMetadata,
  toRecordedEvent,
  uuidV5,
} from './esdb-event-store';

/*
 * Server-free tests of the adapter's own logic. The $all model below (`logReader`) follows EventStoreDB's
 * documented read semantics (forwards inclusive of the start position, backwards exclusive of it); it is a model
 * for these tests, not the engine. The adapter's contract suite runs against a real server in
 * esdb-event-store.int.spec.ts.
 */

const DNS_NAMESPACE = '6ba7b810-9dad-11d1-80b4-00c04fd430c8';

function ev(
  commit: bigint,
  opts: { prepare?: bigint; type?: string; streamId?: string; revision?: bigint } = {},
): AllStreamRecordedEvent {
  return {
    streamId: opts.streamId ?? 'acct-1',
    id: `00000000-0000-4000-8000-${commit.toString().padStart(12, '0')}`,
    revision: opts.revision ?? 0n,
    type: opts.type ?? 'UsageRecorded',
    isJson: true,
    created: new Date(0),
    data: { at: commit.toString() },
    metadata: { eventId: `evt-${commit}` },
    position: { commit, prepare: opts.prepare ?? commit },
  } as AllStreamRecordedEvent;
}

/** A $all page reader over an in-memory log, with the read semantics EventStoreDB documents. */
function logReader(log: AllStreamRecordedEvent[], calls: ReadPosition[] = []): PageReader {
  const sorted = [...log].sort((a, b) => comparePositions(a.position, b.position));
  return async (from, direction, maxCount) => {
    calls.push(from);
    if (direction === FORWARDS) {
      const start =
        from === START
          ? 0
          : from === END
            ? sorted.length
            : sorted.findIndex((e) => comparePositions(e.position, from) >= 0);
      return (start < 0 ? [] : sorted.slice(start)).slice(0, maxCount);
    }
    const before =
      from === END
        ? sorted
        : from === START
          ? []
          : sorted.filter((e) => comparePositions(e.position, from) < 0);
    return [...before].reverse().slice(0, maxCount);
  };
}

function commits(batch: AllBatch): bigint[] {
  return batch.events.map((e) => e.position);
}

describe('EventStoreDB adapter: event ids', () => {
  it('given a name and a namespace, then uuidV5 gives the RFC 4122 version 5 UUID', () => {
    expect(uuidV5('hello.example.com', DNS_NAMESPACE)).toBe('fdda765f-fc57-5604-a269-52a7df8164ec');
    expect(uuidV5('www.example.com', DNS_NAMESPACE)).toBe('2ed6657d-e927-568b-95e1-2665a8aea6a2');
  });

  it('given a UUID event id, then it is the EventStoreDB id as is (lower case)', () => {
    expect(toEsdbEventId('9F1C2A3B-4D5E-4F60-8A7B-8C9D0E1F2A3B')).toBe(
      '9f1c2a3b-4d5e-4f60-8a7b-8c9d0e1f2a3b',
    );
  });

  it('given an id that is no UUID, then a stable UUID v5 is derived from it and different ids stay different', () => {
    const a = toEsdbEventId('usage-2024-01-01-agent-1');
    expect(a).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(toEsdbEventId('usage-2024-01-01-agent-1')).toBe(a);
    expect(a).toBe(uuidV5('usage-2024-01-01-agent-1', PURSER_EVENT_ID_NAMESPACE));
    expect(toEsdbEventId('usage-2024-01-01-agent-2')).not.toBe(a);
  });

  it('given the nil UUID, then an id is derived, since the server cannot store an empty id', () => {
    expect(toEsdbEventId('00000000-0000-0000-0000-000000000000')).not.toBe(
      '00000000-0000-0000-0000-000000000000',
    );
  });

  it('given an event to append, then its metadata, original event id included, is the stored metadata', () => {
    const metadata = {
      eventId: 'not-a-uuid',
      correlationId: 'c',
      causationId: null,
      actor: { type: 'system' as const, id: 'purser' },
      occurredAt: '2024-01-01T00:00:00.000Z',
      schemaVersion: 1,
      orgId: 'org-1',
    };
    const data = toEventData({ type: 'UsageRecorded', data: { amount: '1.00' }, metadata });
    expect(data).toEqual({
      id: uuidV5('not-a-uuid', PURSER_EVENT_ID_NAMESPACE),
      contentType: 'application/json',
      type: 'UsageRecorded',
      data: { amount: '1.00' },
      metadata,
    });
  });
});

describe('EventStoreDB adapter: recorded events', () => {
  it('given an event read from the server, then its position is the commit position and its metadata is ours', () => {
    const e = toRecordedEvent({
      ...ev(640n, { streamId: 's', revision: 3n }),
      metadata: { eventId: 'orig', orgId: 'o' },
    });
    expect(e).toEqual({
      streamId: 's',
      revision: 3n,
      position: 640n,
      type: 'UsageRecorded',
      data: { at: '640' },
      metadata: { eventId: 'orig', orgId: 'o' },
    });
  });

  it('given an event without a position (server older than 22.6, or a legacy transaction), then reading fails loudly', () => {
    expect(() => toRecordedEvent({ ...ev(1n), position: undefined } as never)).toThrow(/22\.6/);
    expect(() => toRecordedEvent(ev(2n ** 64n - 1n))).toThrow(/position/);
  });

  it('given metadata written by another client, then it is kept and the event id is the EventStoreDB id', () => {
    expect(toMetadata({ $correlationId: 'x' }, 'esdb-id')).toEqual({
      $correlationId: 'x',
      eventId: 'esdb-id',
    });
    expect(toMetadata(undefined, 'esdb-id')).toEqual({ eventId: 'esdb-id' });
    expect(toMetadata(new Uint8Array([1, 2]), 'esdb-id')).toEqual({ eventId: 'esdb-id' });
  });
});

describe('EventStoreDB adapter: revisions in conflicts', () => {
  it('names the expected and the actual revision the way the other adapters do', () => {
    expect(describeExpected(0n)).toBe('0');
    expect(describeExpected('no_stream')).toBe('no_stream');
    expect(describeExpected('stream_exists')).toBe('stream_exists');
    expect(describeActual(1n)).toBe('1');
    expect(describeActual('no_stream')).toBe('no_stream');
    expect(describeActual(-1n)).toBe('no_stream');
  });
});

describe('EventStoreDB adapter: positions and filters', () => {
  it('orders positions by commit, then prepare', () => {
    const p = (commit: bigint, prepare: bigint): Position => ({ commit, prepare });
    expect(comparePositions(p(1n, 9n), p(2n, 0n))).toBe(-1);
    expect(comparePositions(p(5n, 3n), p(5n, 4n))).toBe(-1);
    expect(comparePositions(p(5n, 4n), p(5n, 4n))).toBe(0);
    expect(comparePositions(p(6n, 0n), p(5n, 9n))).toBe(1);
  });

  it('treats $-types and $-streams as system events', () => {
    expect(isSystemEvent({ type: '$metadata', streamId: '$$acct-1' })).toBe(true);
    expect(isSystemEvent({ type: 'Custom', streamId: '$stats-1' })).toBe(true);
    expect(isSystemEvent({ type: 'UsageRecorded', streamId: 'acct-1' })).toBe(false);
  });

  it('matches a filter only when both its types and its prefixes hold; empty parts hold for all', () => {
    const e = { type: 'UsageRecorded', streamId: 'quota-1' };
    expect(matchesFilter(undefined, e)).toBe(true);
    expect(matchesFilter({ eventTypes: [], streamPrefixes: [] }, e)).toBe(true);
    expect(matchesFilter({ eventTypes: ['UsageRecorded'] }, e)).toBe(true);
    expect(matchesFilter({ eventTypes: ['Other'] }, e)).toBe(false);
    expect(matchesFilter({ streamPrefixes: ['team-', 'quota-'] }, e)).toBe(true);
    expect(matchesFilter({ eventTypes: ['UsageRecorded'], streamPrefixes: ['team-'] }, e)).toBe(false);
  });
});

describe('EventStoreDB adapter: reading $all', () => {
  const log = [
    ev(100n),
    ev(150n, { type: '$statsCollected', streamId: '$stats-1' }),
    ev(200n, { type: 'Other' }),
    ev(260n),
    ev(330n, { streamId: 'team-1' }),
    ev(400n),
    ev(470n),
  ];

  it('given pages smaller than the read, then every event comes once, in order, system events left out', async () => {
    const scanner = new AllScanner(-1n);
    await scanForward(logReader(log), START, scanner, 2);
    const batch = scanner.result();
    expect(commits(batch)).toEqual([100n, 200n, 260n, 330n, 400n, 470n]);
    expect(batch.checkpoint).toBe(470n);
  });

  it('given an exclusive after, then events at or before it are skipped although the read starts on it', async () => {
    const scanner = new AllScanner(260n);
    await scanForward(logReader(log), { commit: 260n, prepare: 260n }, scanner, 3);
    expect(commits(scanner.result())).toEqual([330n, 400n, 470n]);
  });

  it('given a max count, then the batch stops there and its checkpoint is the last scanned event', async () => {
    const scanner = new AllScanner(-1n, undefined, 2);
    await scanForward(logReader(log), START, scanner, 3);
    expect(scanner.result()).toMatchObject({ checkpoint: 200n });
    expect(commits(scanner.result())).toEqual([100n, 200n]);
  });

  it('given a filter, then the checkpoint passes the filtered-out and system events', async () => {
    const scanner = new AllScanner(-1n, { eventTypes: ['Other'] });
    await scanForward(logReader(log), START, scanner, 3);
    const batch = scanner.result();
    expect(commits(batch)).toEqual([200n]);
    expect(batch.checkpoint).toBe(470n);
  });

  it('given a scan budget, then the batch may be empty but its checkpoint shows how far it scanned', async () => {
    const scanner = new AllScanner(-1n, { streamPrefixes: ['nobody-'] }, 10, 3);
    await scanForward(logReader(log), START, scanner, 5);
    expect(scanner.result()).toEqual({ events: [], checkpoint: 200n });
  });

  it('given events sharing one commit position (legacy transaction), then a batch never ends inside the group', async () => {
    const txLog = [
      ev(50n),
      ev(100n, { prepare: 60n }),
      ev(100n, { prepare: 70n }),
      ev(100n, { prepare: 80n }),
      ev(120n),
    ];
    const first = new AllScanner(-1n, undefined, 2);
    await scanForward(logReader(txLog), START, first, 2);
    expect(first.result().checkpoint).toBe(100n);
    expect(first.result().events).toHaveLength(4);
    const next = new AllScanner(100n);
    await scanForward(logReader(txLog), { commit: 100n, prepare: 100n }, next, 2);
    expect(commits(next.result())).toEqual([120n]);
  });

  it('given an after that is no event position (p - 1), then the anchor is the last event at or before it', async () => {
    const reader = logReader(log);
    expect(await findAnchor(reader, 329n, 2)).toEqual({ commit: 260n, prepare: 260n });
    expect(await findAnchor(reader, 330n, 2)).toEqual({ commit: 330n, prepare: 330n });
    expect(await findAnchor(reader, 99n, 2)).toBe(START);
    expect(await findAnchor(reader, 10_000n, 2)).toEqual({ commit: 470n, prepare: 470n });
  });

  it('given an anchor, then reading from it and skipping up to after delivers exactly the later events', async () => {
    const reader = logReader(log);
    const scanner = new AllScanner(329n);
    await scanForward(reader, await findAnchor(reader, 329n, 2), scanner, 2);
    expect(commits(scanner.result())).toEqual([330n, 400n, 470n]);
  });

  it('given system events at the end of $all, then the head is the last non-system event; -1 when there is none', async () => {
    const tail = [
      ...log,
      ev(500n, { type: '$statsCollected', streamId: '$stats-1' }),
      ev(520n, { type: '$>' }),
    ];
    expect(await lastNonSystemPosition(logReader(tail), 1)).toBe(470n);
    expect(await lastNonSystemPosition(logReader([]), 5)).toBe(-1n);
    expect(await lastNonSystemPosition(logReader([ev(5n, { type: '$metadata' })]), 5)).toBe(-1n);
  });
});

describe('EventStoreDB adapter: batches and idempotency', () => {
  const reader = (items: number[]) => () => items.shift() ?? null;
  const sameTen = (a: number, b: number) => Math.floor(a / 10) === Math.floor(b / 10);

  it('takes what is available up to the batch size, and a carried item first', () => {
    expect(takeBatch(reader([1, 2, 3]), 5, sameTen, null)).toEqual({ items: [1, 2, 3], carry: null });
    expect(takeBatch(reader([12, 23, 34]), 2, sameTen, null)).toEqual({ items: [12, 23], carry: 34 });
    expect(takeBatch(reader([45]), 2, sameTen, 34)).toEqual({ items: [34, 45], carry: null });
  });

  it('given a full batch, then it still takes the rest of the last group', () => {
    expect(takeBatch(reader([1, 11, 12, 13, 21]), 2, sameTen, null)).toEqual({
      items: [1, 11, 12, 13],
      carry: 21,
    });
  });

  it('finds event ids stored as one run in a stream tail, or says when only some are there', () => {
    const tail = [{ id: 'a' }, { id: 'B' }, { id: 'c' }, { id: 'd' }];
    expect(findStoredRun(tail, ['b', 'c'])).toBe(tail[2]);
    expect(findStoredRun(tail, ['d'])).toBe(tail[3]);
    expect(findStoredRun(tail, ['c', 'x'])).toBe('partial');
    expect(findStoredRun(tail, ['a', 'c'])).toBe('partial');
    expect(findStoredRun(tail, ['x', 'y'])).toBeNull();
    expect(findStoredRun([], ['x'])).toBeNull();
  });

  it('runs appendMany writes with bounded parallelism and answers in order', async () => {
    let active = 0;
    let peak = 0;
    const out = await mapWithConcurrency([5, 1, 4, 2, 3], 2, async (n) => {
      active++;
      peak = Math.max(peak, active);
      await new Promise((r) => setTimeout(r, n));
      active--;
      return n * 10;
    });
    expect(out).toEqual([50, 10, 40, 20, 30]);
    expect(peak).toBe(2);
    expect(await mapWithConcurrency([], 4, async (n: number) => n)).toEqual([]);
  });

  it('given writes to one stream in one appendMany, then they run one after another, in order, and other streams run alongside', async () => {
    const store = new EsdbEventStore('esdb://127.0.0.1:1?tls=false', { appendConcurrency: 4 });
    const log: string[] = [];
    const busy = new Set<string>();
    let overlapOnOneStream = false;
    let peak = 0;
    store.append = async (streamId: string, events: { type: string }[]) => {
      if (busy.has(streamId)) overlapOnOneStream = true;
      busy.add(streamId);
      peak = Math.max(peak, busy.size);
      await new Promise((r) => setTimeout(r, 5));
      busy.delete(streamId);
      log.push(`${streamId}:${events[0].type}`);
      if (events[0].type === 'bad') throw new Error('refused');
      return { nextRevision: 0n, position: 0n };
    };
    const write = (streamId: string, type: string) => ({
      streamId,
      expected: 'any' as const,
      events: [{ type, data: {}, metadata: {} as never }],
    });
    const outcomes = await store.appendMany([
      write('a', '1'),
      write('b', '1'),
      write('a', 'bad'),
      write('a', '3'),
      write('c', '1'),
    ]);
    expect(outcomes.map((o) => o.ok)).toEqual([true, true, false, true, true]);
    expect(log.filter((l) => l.startsWith('a:'))).toEqual(['a:1', 'a:bad', 'a:3']);
    expect(overlapOnOneStream).toBe(false);
    expect(peak).toBe(3);
    await store.close();
  });

  it('backs off exponentially up to a ceiling', () => {
    expect([1, 2, 3, 4].map((a) => backoffDelay(a, { initialDelayMs: 100, maxDelayMs: 500 }))).toEqual([
      100, 200, 400, 500,
    ]);
  });
});

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
