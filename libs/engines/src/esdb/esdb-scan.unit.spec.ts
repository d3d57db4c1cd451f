import { Position, START } from '@eventstore/db-client';
import {
  AllScanner,
  EsdbEventStore,
  backoffDelay,
  comparePositions,
  findAnchor,
  findStoredRun,
  isSystemEvent,
  lastNonSystemPosition,
  mapWithConcurrency,
  matchesFilter,
  scanForward,
  takeBatch,
} from './esdb-event-store';
import { commits, ev, logReader } from './testing/esdb-fixtures';

// Server-free tests of the adapter's own logic (fixtures in testing/esdb-fixtures.ts); the contract suite runs
// against a real server in esdb-event-store.int.spec.ts.

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
