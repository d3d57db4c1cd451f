import {
  AllStreamRecordedEvent,
  AppendResult as EsdbAppendResult,
  EventData,
  START,
  WrongExpectedVersionError as EsdbWrongExpectedVersionError,
} from '@eventstore/db-client';
import { OnceEvent, OnceWrite, RecordedEvent } from '@purser/core';
import { EsdbEventStore, onceStreamId } from './esdb-event-store';

/*
 * appendOnce on EventStoreDB, without a server: the client is replaced by a model of the calls the adapter makes
 * (appendToStream with an expected revision, readStream forwards). The model keeps the server's documented
 * idempotence: a re-append, with expected "no stream", of the event id already first in the stream succeeds again
 * with the original position. The adapter's contract suite (appendOnce included) runs against a real server in
 * esdb-event-store.int.spec.ts.
 */

class ModelClient {
  readonly streams = new Map<string, AllStreamRecordedEvent[]>();
  readonly appended: Array<{ streamId: string; id: string }> = [];
  private commit = 0n;

  async appendToStream(
    streamId: string,
    event: EventData,
    options: { expectedRevision: string },
  ): Promise<EsdbAppendResult> {
    // Let concurrent callers interleave, as network calls do.
    await new Promise((r) => setImmediate(r));
    const stored = this.streams.get(streamId);
    if (options.expectedRevision === 'no_stream' && stored) {
      if (stored[0].id === event.id)
        return { success: true, nextExpectedRevision: 0n, position: stored[0].position };
      throw new EsdbWrongExpectedVersionError(
        undefined as never,
        {
          streamName: streamId,
          expected: 'no_stream',
          current: BigInt(stored.length - 1),
        } as never,
      );
    }
    return this.store(streamId, event);
  }

  store(streamId: string, event: EventData): EsdbAppendResult {
    const list = this.streams.get(streamId) ?? [];
    this.commit += 100n;
    const position = { commit: this.commit, prepare: this.commit };
    list.push({
      streamId,
      id: event.id,
      revision: BigInt(list.length),
      type: event.type,
      isJson: true,
      created: new Date(0),
      data: event.data,
      metadata: event.metadata,
      position,
    } as AllStreamRecordedEvent);
    this.streams.set(streamId, list);
    this.appended.push({ streamId, id: event.id });
    return { success: true, nextExpectedRevision: BigInt(list.length - 1), position };
  }

  readStream(streamId: string, options: { fromRevision: bigint | typeof START; maxCount: number }) {
    const from = typeof options.fromRevision === 'bigint' ? Number(options.fromRevision) : 0;
    const events = (this.streams.get(streamId) ?? []).slice(from, from + options.maxCount);
    return (async function* () {
      await new Promise((r) => setImmediate(r));
      for (const event of events) yield { event };
    })();
  }

  async dispose(): Promise<void> {}
}

function storeWithModel() {
  const store = new EsdbEventStore('esdb://127.0.0.1:1?tls=false');
  const inner = store as unknown as { client: { dispose(): Promise<void> } };
  void inner.client.dispose();
  const model = new ModelClient();
  inner.client = model;
  return { store, model };
}

function once(scope: string, key: string, amount: string, formerly?: OnceWrite['formerly']): OnceWrite {
  const event: OnceEvent = {
    type: 'UsageRecorded',
    data: { amount },
    metadata: {
      eventId: `usage/${scope}/${key}`,
      correlationId: 'c',
      causationId: null,
      actor: { type: 'system', id: 'test' },
      occurredAt: '2026-01-01T00:00:00.000Z',
      schemaVersion: 1,
      orgId: scope,
      fingerprint: `fp-${amount}`,
    },
  };
  return { scope, key, streamId: `usage-${scope}`, event, ...(formerly ? { formerly } : {}) };
}

describe('EventStoreDB adapter: appendOnce', () => {
  it('given the same key in two scopes, then each is recorded, in a stream of its own', async () => {
    const { store, model } = storeWithModel();
    const out = await store.appendOnce([once('org-a', 'dup-1', '1'), once('org-b', 'dup-1', '2')]);
    expect(out).toEqual([
      { status: 'recorded', streamId: 'usage-org-a|org-a|dup-1', position: expect.any(BigInt) },
      { status: 'recorded', streamId: 'usage-org-b|org-b|dup-1', position: expect.any(BigInt) },
    ]);
    expect(model.appended).toHaveLength(2);
    await store.close();
  });

  it('given scopes, keys and streams that would run together, then their record streams stay apart', () => {
    const ids = [
      { streamId: 'usage-a', scope: 'a', key: 'b-c' },
      { streamId: 'usage-a-b', scope: 'a-b', key: 'c' },
      { streamId: 'usage-a', scope: 'a', key: 'b|a|c' },
      { streamId: 'usage-a|a|b', scope: 'a', key: 'c' },
      { streamId: 'usage-a', scope: 'a|b', key: 'c' },
    ].map(onceStreamId);
    expect(new Set(ids).size).toBe(ids.length);
  });

  it('given a recorded key, when it comes again, then it is a duplicate at the stored position, although the server would take the same event id again silently', async () => {
    const { store, model } = storeWithModel();
    const [first] = await store.appendOnce([once('org-a', 'k', '1')]);
    const [again] = await store.appendOnce([once('org-a', 'k', '1')]);
    expect(again).toEqual({ status: 'duplicate', streamId: first.streamId, position: first.position });
    expect(model.appended).toHaveLength(1);
    await store.close();
  });

  it('given a recorded key, when it comes with another payload, then it differs with the stored fingerprint and nothing is written', async () => {
    const { store, model } = storeWithModel();
    const [first] = await store.appendOnce([once('org-a', 'k', '1')]);
    const out = await store.appendOnce([once('org-a', 'k', '2'), once('org-a', 'k', '1')]);
    expect(out).toEqual([
      { status: 'differs', streamId: first.streamId, position: first.position, storedFingerprint: 'fp-1' },
      { status: 'duplicate', streamId: first.streamId, position: first.position },
    ]);
    expect(model.appended).toHaveLength(1);
    await store.close();
  });

  it('given a mixed call, then outcomes come in write order and a key repeated in it is recorded by its first write', async () => {
    const { store } = storeWithModel();
    await store.appendOnce([once('org-a', 'stored', '1')]);
    const out = await store.appendOnce([
      once('org-a', 'new', '1'),
      once('org-a', 'stored', '9'),
      once('org-b', 'stored', '1'),
      once('org-a', 'new', '3'),
    ]);
    expect(out.map((o) => o.status)).toEqual(['recorded', 'differs', 'recorded', 'differs']);
    expect(out[3].position).toBe(out[0].position);
    await store.close();
  });

  it('given callers racing on one key, then one records it and the others answer its position', async () => {
    const { store, model } = storeWithModel();
    const out = (
      await Promise.all(Array.from({ length: 8 }, () => store.appendOnce([once('org-a', 'race', '1')])))
    ).flat();
    expect(out.filter((o) => o.status === 'recorded')).toHaveLength(1);
    expect(new Set(out.map((o) => o.position)).size).toBe(1);
    expect(model.appended).toHaveLength(1);
    await store.close();
  });

  it('given a record in its former stream of its own, then it answers for its scope (fingerprinted by the caller) and not for another', async () => {
    const { store, model } = storeWithModel();
    model.store('usage-org-a-k', {
      id: '2b0b8f0e-4b36-4c2a-9a51-0f7f0c1e2d3a',
      type: 'UsageRecorded',
      contentType: 'application/json',
      data: { amount: '5' },
      metadata: { ...once('org-a', 'k', '5').event.metadata, eventId: 'usage:k', fingerprint: undefined },
    } as EventData);
    const formerly = [
      { streamId: 'usage-org-a', eventId: 'usage:k' },
      { streamId: 'usage-org-a-k', eventId: 'usage:k' },
    ];
    const fingerprintOf = (e: RecordedEvent) => `fp-${(e.data as { amount: string }).amount}`;
    const out = await store.appendOnce(
      [
        once('org-a', 'k', '5', formerly),
        once('org-a', 'k', '6', formerly),
        // org-a-k's own key "k" would have had stream usage-org-a-k-k: the former record of org-a is not its.
        once('org-a-k', 'k', '5', [{ streamId: 'usage-org-a-k', eventId: 'usage:k' }]),
      ],
      { fingerprintOf },
    );
    expect(out).toEqual([
      { status: 'duplicate', streamId: 'usage-org-a-k', position: 100n },
      { status: 'differs', streamId: 'usage-org-a-k', position: 100n, storedFingerprint: 'fp-5' },
      { status: 'recorded', streamId: 'usage-org-a-k|org-a-k|k', position: expect.any(BigInt) },
    ]);
    await store.close();
  });

  it('given a write to a system stream, then the call is refused', async () => {
    const { store } = storeWithModel();
    await expect(store.appendOnce([{ ...once('org-a', 'k', '1'), streamId: '$all' }])).rejects.toThrow(
      /invalid stream id/,
    );
    await store.close();
  });
});
