import { randomUUID } from 'node:crypto';
import {
  AllBatch,
  EventFilter,
  EventStore,
  EventToAppend,
  OnceEvent,
  OnceWrite,
  RecordedEvent,
  WrongExpectedVersionError,
} from '@purser/core';
import { eventually, uniqueSuffix } from '../engines';

export interface EventStoreContractOptions {
  /** Prefix of every stream the suite writes, so runs sharing one store never collide. */
  streamPrefix?: string;
}

export function usageEvent(amount: string, extra: Partial<EventToAppend['metadata']> = {}): EventToAppend {
  return {
    type: 'TestUsageRecorded',
    data: { amount, currency: 'USD', itemType: 'Agent', itemId: 'agent-1' },
    metadata: {
      eventId: randomUUID(),
      correlationId: randomUUID(),
      causationId: null,
      actor: { type: 'system', id: 'contract' },
      occurredAt: new Date().toISOString(),
      schemaVersion: 1,
      orgId: 'org-contract',
      ...extra,
    },
  };
}

/**
 * The one contract every EventStore adapter passes. Given/when/then: given streams, when an append or a read,
 * then what a caller observes.
 */
export function eventStoreContract(
  makeStore: () => Promise<EventStore>,
  options: EventStoreContractOptions = {},
) {
  let store: EventStore;
  const run = `${options.streamPrefix ?? 'ct'}${uniqueSuffix()}`;
  let n = 0;
  const stream = (kind = 'acct') => `${run}${kind}-${++n}`;

  beforeAll(async () => {
    store = await makeStore();
  });
  afterAll(async () => {
    await store?.close();
  });

  describe('append and read a stream', () => {
    it('given no stream, when appending with no_stream, then the events are stored at revisions 0..n-1 in order', async () => {
      const s = stream();
      const events = [usageEvent('1.00'), usageEvent('2.00'), usageEvent('3.00')];
      const res = await store.append(s, events, 'no_stream');
      expect(res.nextRevision).toBe(2n);
      const read = await store.readStream(s);
      expect(read.map((e) => e.revision)).toEqual([0n, 1n, 2n]);
      expect(read.map((e) => (e.data as { amount: string }).amount)).toEqual(['1.00', '2.00', '3.00']);
      expect(read[2].position).toBe(res.position);
      expect(read[0].metadata).toEqual(events[0].metadata);
      expect(read[0].streamId).toBe(s);
    });

    it('given an unknown stream, when reading it, then it is empty', async () => {
      expect(await store.readStream(stream('missing'))).toEqual([]);
    });

    it('given a stream, when reading from a revision with a max count, then only that slice is returned', async () => {
      const s = stream();
      await store.append(
        s,
        [usageEvent('1'), usageEvent('2'), usageEvent('3'), usageEvent('4')],
        'no_stream',
      );
      const slice = await store.readStream(s, { fromRevision: 1n, maxCount: 2 });
      expect(slice.map((e) => e.revision)).toEqual([1n, 2n]);
    });

    it('given positions, then they strictly increase in append order across streams', async () => {
      const a = await store.append(stream(), [usageEvent('1')], 'no_stream');
      const b = await store.append(stream(), [usageEvent('2')], 'no_stream');
      const c = await store.append(stream(), [usageEvent('3'), usageEvent('4')], 'no_stream');
      expect(b.position).toBeGreaterThan(a.position);
      expect(c.position).toBeGreaterThan(b.position);
    });
  });

  describe('optimistic concurrency', () => {
    it('given an existing stream, when appending with no_stream, then it is a version conflict and nothing is written', async () => {
      const s = stream();
      await store.append(s, [usageEvent('1')], 'no_stream');
      await expect(store.append(s, [usageEvent('2')], 'no_stream')).rejects.toBeInstanceOf(
        WrongExpectedVersionError,
      );
      expect(await store.readStream(s)).toHaveLength(1);
    });

    it('given no stream, when appending with stream_exists, then it is a version conflict', async () => {
      await expect(store.append(stream(), [usageEvent('1')], 'stream_exists')).rejects.toBeInstanceOf(
        WrongExpectedVersionError,
      );
    });

    it('given a stream at revision 1, when appending expecting 0, then it is a conflict naming both revisions', async () => {
      const s = stream();
      await store.append(s, [usageEvent('1'), usageEvent('2')], 'no_stream');
      const err = await store.append(s, [usageEvent('3')], 0n).catch((e) => e);
      expect(err).toBeInstanceOf(WrongExpectedVersionError);
      expect((err as WrongExpectedVersionError).streamId).toBe(s);
      expect((err as WrongExpectedVersionError).expected).toBe('0');
      expect((err as WrongExpectedVersionError).actual).toBe('1');
      expect(await store.readStream(s)).toHaveLength(2);
    });

    it('given a stream at revision 1, when appending expecting 1 and then with any, then both succeed', async () => {
      const s = stream();
      await store.append(s, [usageEvent('1'), usageEvent('2')], 'no_stream');
      expect((await store.append(s, [usageEvent('3')], 1n)).nextRevision).toBe(2n);
      expect((await store.append(s, [usageEvent('4')], 'any')).nextRevision).toBe(3n);
      expect((await store.append(s, [usageEvent('5')], 'stream_exists')).nextRevision).toBe(4n);
    });

    it('given 20 writers racing on one revision, then exactly one wins and the others get conflicts', async () => {
      const s = stream();
      await store.append(s, [usageEvent('0')], 'no_stream');
      const results = await Promise.allSettled(
        Array.from({ length: 20 }, (_, i) => store.append(s, [usageEvent(String(i))], 0n)),
      );
      const won = results.filter((r) => r.status === 'fulfilled');
      const lost = results.filter((r) => r.status === 'rejected') as PromiseRejectedResult[];
      expect(won).toHaveLength(1);
      expect(lost.every((r) => r.reason instanceof WrongExpectedVersionError)).toBe(true);
      expect(await store.readStream(s)).toHaveLength(2);
    });
  });

  describe('idempotent appends', () => {
    it('given events already appended, when the same events are appended again, then nothing new is written and the original result is answered', async () => {
      const s = stream();
      const events = [usageEvent('1'), usageEvent('2')];
      const first = await store.append(s, events, 'no_stream');
      expect(first.duplicate).toBeFalsy();
      const again = await store.append(s, events, 'no_stream');
      expect(again).toMatchObject({ nextRevision: first.nextRevision, position: first.position });
      const againAny = await store.append(s, events, 'any');
      expect(againAny).toMatchObject({ nextRevision: first.nextRevision, position: first.position });
      expect(await store.readStream(s)).toHaveLength(2);
    });

    it('given an append retried after later appends, when appended again with its original expected revision, then nothing is duplicated', async () => {
      const s = stream();
      await store.append(s, [usageEvent('0')], 'no_stream');
      const retried = [usageEvent('1')];
      const first = await store.append(s, retried, 0n);
      await store.append(s, [usageEvent('2')], 1n);
      const again = await store.append(s, retried, 0n);
      expect(again.position).toBe(first.position);
      expect(await store.readStream(s)).toHaveLength(3);
    });
  });

  describe('append once by key (idempotent appends)', () => {
    /** A write of `key` in `scope`: its event id derives from both, its fingerprint from the amount. */
    const once = (
      scope: string,
      key: string,
      amount: string,
      formerly?: OnceWrite['formerly'],
    ): OnceWrite => {
      const base = usageEvent(amount, { eventId: `once/${run}/${scope}/${key}`, orgId: scope });
      const event = { ...base, metadata: { ...base.metadata, fingerprint: `fp-${amount}` } } as OnceEvent;
      return { scope, key, streamId: `${run}once-${scope}`, event, ...(formerly ? { formerly } : {}) };
    };
    const scope = () => `${run}org${++n}`;
    const amountAt = async (streamId: string, position: bigint) =>
      ((await store.readStream(streamId)).find((e) => e.position === position)?.data as { amount: string })
        ?.amount;

    it('given a key recorded in one scope, when the same key comes in another scope, then it is recorded there too', async () => {
      const [a, b] = [scope(), scope()];
      const start = await store.headPosition();
      const [first] = await store.appendOnce([once(a, 'dup-1', '1.00')]);
      const [second] = await store.appendOnce([once(b, 'dup-1', '2.00')]);
      expect(first).toMatchObject({ status: 'recorded' });
      expect(second).toMatchObject({ status: 'recorded' });
      expect(second.position).toBeGreaterThan(first.position);
      expect(await amountAt(first.streamId, first.position)).toBe('1.00');
      expect(await amountAt(second.streamId, second.position)).toBe('2.00');
      // Records are found through readAll by their stream as a prefix, whatever stream the engine gave them.
      const read = await store.readAll({ after: start, filter: { streamPrefixes: [`${run}once-${a}`] } });
      expect(read.events.map((e) => e.position)).toEqual([first.position]);
    });

    it('given a recorded key, when it comes again in its scope, then it is a duplicate at the stored position and nothing is written', async () => {
      const a = scope();
      const [first] = await store.appendOnce([once(a, 'k', '1.00')]);
      const head = await store.headPosition();
      const again = await store.appendOnce([once(a, 'k', '1.00'), once(a, 'k', '1.00')]);
      expect(again).toEqual([
        { status: 'duplicate', streamId: first.streamId, position: first.position },
        { status: 'duplicate', streamId: first.streamId, position: first.position },
      ]);
      expect(await store.headPosition()).toBe(head);
    });

    it('given a recorded key, when it comes again with another payload, then it differs, with the stored fingerprint, and nothing is written', async () => {
      const a = scope();
      const [first] = await store.appendOnce([once(a, 'k', '1.00')]);
      const head = await store.headPosition();
      const [other] = await store.appendOnce([once(a, 'k', '9.99')]);
      expect(other).toEqual({
        status: 'differs',
        streamId: first.streamId,
        position: first.position,
        storedFingerprint: 'fp-1.00',
      });
      expect(await store.headPosition()).toBe(head);
      expect(await amountAt(first.streamId, first.position)).toBe('1.00');
    });

    it('given a mixed call, then the outcomes come in the order of the writes, and a key repeated in it is recorded once', async () => {
      const a = scope();
      const [stored] = await store.appendOnce([once(a, 'stored', '1')]);
      const out = await store.appendOnce([
        once(a, 'new-1', '1'),
        once(a, 'stored', '1'),
        once(a, 'stored', '2'),
        once(a, 'new-2', '2'),
        once(a, 'new-1', '3'),
        once(a, 'new-1', '1'),
      ]);
      expect(out.map((o) => o.status)).toEqual([
        'recorded',
        'duplicate',
        'differs',
        'recorded',
        'differs',
        'duplicate',
      ]);
      expect(out[1].position).toBe(stored.position);
      expect(out[4]).toMatchObject({ position: out[0].position, storedFingerprint: 'fp-1' });
      expect(out[5].position).toBe(out[0].position);
      expect(await amountAt(out[3].streamId, out[3].position)).toBe('2');
    });

    it('given writers racing on one key, then exactly one records it and the others answer its position', async () => {
      const a = scope();
      const outs = (
        await Promise.all(Array.from({ length: 10 }, () => store.appendOnce([once(a, 'race', '1')])))
      ).flat();
      const recorded = outs.filter((o) => o.status === 'recorded');
      expect(recorded).toHaveLength(1);
      expect(outs.every((o) => o.position === recorded[0].position)).toBe(true);
    });

    it('given a record stored by a plain append before (no fingerprint), when its key comes, then it is found in its scope only and fingerprinted by the caller', async () => {
      const [a, b] = [scope(), scope()];
      const legacyStream = stream('legacy');
      const legacyId = `legacy/${run}/${a}/k`;
      const legacy = await store.append(
        legacyStream,
        [usageEvent('5', { eventId: legacyId, orgId: a })],
        'no_stream',
      );
      const formerly = [{ streamId: legacyStream, eventId: legacyId }];
      const fingerprintOf = (e: RecordedEvent) => `fp-${(e.data as { amount: string }).amount}`;
      const head = await store.headPosition();
      expect(await store.appendOnce([once(a, 'k', '5', formerly)], { fingerprintOf })).toEqual([
        { status: 'duplicate', streamId: legacyStream, position: legacy.position },
      ]);
      expect(await store.appendOnce([once(a, 'k', '6', formerly)], { fingerprintOf })).toEqual([
        { status: 'differs', streamId: legacyStream, position: legacy.position, storedFingerprint: 'fp-5' },
      ]);
      expect(await store.headPosition()).toBe(head);
      // Another scope naming the same former location does not see a's record.
      const [other] = await store.appendOnce([once(b, 'k', '5', formerly)], { fingerprintOf });
      expect(other.status).toBe('recorded');
    });
  });

  describe('atomic appends', () => {
    it('given a batch refused on its revision, then none of its events are stored', async () => {
      const s = stream();
      await store.append(s, [usageEvent('0')], 'no_stream');
      await expect(store.append(s, [usageEvent('a'), usageEvent('b')], 5n)).rejects.toBeInstanceOf(
        WrongExpectedVersionError,
      );
      expect(await store.readStream(s)).toHaveLength(1);
    });

    it('given independent writes, when appendMany, then each succeeds or fails on its own, in order', async () => {
      const taken = stream();
      await store.append(taken, [usageEvent('0')], 'no_stream');
      const fresh1 = stream();
      const fresh2 = stream();
      const outcomes = await store.appendMany([
        { streamId: fresh1, events: [usageEvent('1')], expected: 'no_stream' },
        { streamId: taken, events: [usageEvent('2')], expected: 'no_stream' },
        { streamId: fresh2, events: [usageEvent('3'), usageEvent('4')], expected: 'no_stream' },
      ]);
      expect(outcomes.map((o) => o.ok)).toEqual([true, false, true]);
      expect(outcomes[1].ok === false && outcomes[1].error).toBeInstanceOf(WrongExpectedVersionError);
      expect(await store.readStream(fresh2)).toHaveLength(2);
      expect(await store.readStream(taken)).toHaveLength(1);
    });

    it('given several writes to one stream, when appendMany, then each sees the revision the previous one left', async () => {
      const s = stream();
      const outcomes = await store.appendMany([
        { streamId: s, events: [usageEvent('1')], expected: 'no_stream' },
        { streamId: s, events: [usageEvent('2'), usageEvent('3')], expected: 0n },
        { streamId: s, events: [usageEvent('x')], expected: 0n },
        { streamId: s, events: [usageEvent('4')], expected: 'any' },
      ]);
      expect(outcomes.map((o) => o.ok)).toEqual([true, true, false, true]);
      expect(outcomes[2].ok === false && outcomes[2].error).toBeInstanceOf(WrongExpectedVersionError);
      expect(outcomes[3].ok && outcomes[3].result.nextRevision).toBe(3n);
      expect((await store.readStream(s)).map((e) => (e.data as { amount: string }).amount)).toEqual([
        '1',
        '2',
        '3',
        '4',
      ]);
      // The stream's revision was kept: a later append continues from it.
      await expect(store.append(s, [usageEvent('5')], 3n)).resolves.toMatchObject({ nextRevision: 4n });
    });
  });

  describe('stream revisions', () => {
    it('given streams, when asking their revisions, then each existing stream answers its last revision and a missing one is absent', async () => {
      const one = stream();
      const three = stream();
      const missing = stream();
      await store.append(one, [usageEvent('1')], 'no_stream');
      await store.append(three, [usageEvent('1'), usageEvent('2')], 'no_stream');
      await store.append(three, [usageEvent('3')], 1n);
      const revisions = await store.streamRevisions([one, three, missing, one]);
      expect(revisions.get(one)).toBe(0n);
      expect(revisions.get(three)).toBe(2n);
      expect(revisions.has(missing)).toBe(false);
      expect(revisions.size).toBe(2);
      expect((await store.streamRevisions([])).size).toBe(0);
    });
  });

  describe('read and subscribe to all', () => {
    async function collectAll(after: bigint, filter?: EventFilter) {
      const out: RecordedEvent[] = [];
      let from = after;
      for (;;) {
        const batch: AllBatch = await store.readAll({ after: from, filter, maxCount: 50 });
        out.push(...batch.events);
        if (batch.checkpoint <= from) return out;
        from = batch.checkpoint;
      }
    }

    it('given appends, when reading all after a position, then they come in position order, none before it', async () => {
      const start = await store.headPosition();
      const s1 = stream();
      const s2 = stream();
      await store.append(s1, [usageEvent('1')], 'no_stream');
      await store.append(s2, [usageEvent('2'), usageEvent('3')], 'no_stream');
      await store.append(s1, [usageEvent('4')], 0n);
      const all = (await collectAll(start)).filter((e) => e.streamId === s1 || e.streamId === s2);
      expect(all.map((e) => (e.data as { amount: string }).amount)).toEqual(['1', '2', '3', '4']);
      const positions = all.map((e) => e.position);
      expect([...positions].sort((a, b) => (a < b ? -1 : 1))).toEqual(positions);
      expect(positions.every((p) => p > start)).toBe(true);
    });

    it('given mixed events, when filtering by event type, then only those types come and the checkpoint passes the rest', async () => {
      const start = await store.headPosition();
      const s = stream();
      const other: EventToAppend = { ...usageEvent('x'), type: 'TestOtherThing' };
      await store.append(s, [usageEvent('1'), other, usageEvent('2')], 'no_stream');
      const tail: EventToAppend = { ...usageEvent('y'), type: 'TestOtherThing' };
      const last = await store.append(s, [tail], 'any');
      const got = (await collectAll(start, { eventTypes: ['TestOtherThing'] })).filter(
        (e) => e.streamId === s,
      );
      expect(got.map((e) => e.type)).toEqual(['TestOtherThing', 'TestOtherThing']);
      const onlyUsage = await store.readAll({ after: start, filter: { eventTypes: ['NoSuchType' + run] } });
      expect(onlyUsage.events).toHaveLength(0);
      expect(onlyUsage.checkpoint).toBeGreaterThanOrEqual(last.position);
    });

    it('given several streams, when filtering by stream prefix, then only streams with that prefix come', async () => {
      const start = await store.headPosition();
      const prefix = `${run}pfx${uniqueSuffix()}-`;
      await store.append(`${prefix}1`, [usageEvent('1')], 'no_stream');
      await store.append(stream(), [usageEvent('2')], 'no_stream');
      await store.append(`${prefix}2`, [usageEvent('3')], 'no_stream');
      const got = await collectAll(start, { streamPrefixes: [prefix] });
      expect(got.map((e) => e.streamId)).toEqual([`${prefix}1`, `${prefix}2`]);
    });

    it('given a subscription from a checkpoint, then it catches up, goes live, and delivers each event once in order', async () => {
      const prefix = `${run}sub${uniqueSuffix()}-`;
      const before = await store.append(`${prefix}a`, [usageEvent('1'), usageEvent('2')], 'no_stream');
      const seen: RecordedEvent[] = [];
      const sub = store.subscribeToAll(
        { after: before.position - 1n, filter: { streamPrefixes: [prefix] } },
        async (b) => {
          seen.push(...b.events);
        },
      );
      await store.append(`${prefix}b`, [usageEvent('3')], 'no_stream');
      await store.append(`${prefix}a`, [usageEvent('4')], 1n);
      await eventually(
        () => seen.length,
        (l) => l >= 3,
        { what: 'three events' },
      );
      await sub.stop();
      expect(seen.map((e) => (e.data as { amount: string }).amount)).toEqual(['2', '3', '4']);
    });

    it('given a subscription stopped and started again from its last checkpoint, then nothing is missed or repeated', async () => {
      const prefix = `${run}resume${uniqueSuffix()}-`;
      const start = await store.headPosition();
      const seen: string[] = [];
      let checkpoint = start;
      const handler = async (b: AllBatch) => {
        seen.push(...b.events.map((e) => (e.data as { amount: string }).amount));
        checkpoint = b.checkpoint;
      };
      let sub = store.subscribeToAll({ after: checkpoint, filter: { streamPrefixes: [prefix] } }, handler);
      await store.append(`${prefix}x`, [usageEvent('1'), usageEvent('2')], 'no_stream');
      await eventually(
        () => seen.length,
        (l) => l === 2,
        { what: 'first two' },
      );
      await sub.stop();
      await store.append(`${prefix}x`, [usageEvent('3')], 1n);
      sub = store.subscribeToAll({ after: checkpoint, filter: { streamPrefixes: [prefix] } }, handler);
      await store.append(`${prefix}x`, [usageEvent('4')], 2n);
      await eventually(
        () => seen.length,
        (l) => l >= 4,
        { what: 'all four' },
      );
      await sub.stop();
      expect(seen).toEqual(['1', '2', '3', '4']);
    });

    it('given a handler that throws, then the subscription ends with that error and delivers nothing more', async () => {
      const prefix = `${run}boom${uniqueSuffix()}-`;
      let calls = 0;
      const sub = store.subscribeToAll(
        { after: await store.headPosition(), filter: { streamPrefixes: [prefix] } },
        async () => {
          calls++;
          throw new Error('projection bug');
        },
      );
      await store.append(`${prefix}1`, [usageEvent('1')], 'no_stream');
      await expect(sub.done).rejects.toThrow('projection bug');
      await store.append(`${prefix}2`, [usageEvent('2')], 'no_stream');
      await sub.stop();
      expect(calls).toBe(1);
    });

    it('given the head position, then it is the position of the last appended event', async () => {
      const res = await store.append(stream(), [usageEvent('1')], 'no_stream');
      expect(await store.headPosition()).toBeGreaterThanOrEqual(res.position);
    });
  });
}
