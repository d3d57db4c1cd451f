import { randomUUID } from 'node:crypto';
import {
  AllStreamRecordedEvent,
  BACKWARDS,
  END,
  EventStoreDBClient,
  FORWARDS,
  Position,
  ReadPosition,
  RecordedEvent as EsdbRecordedEvent,
  START,
  excludeSystemEvents,
} from '@eventstore/db-client';
import {
  AllBatch,
  AppendOnceOptions,
  AppendResult,
  ConflictError,
  EventStore,
  EventToAppend,
  ExpectedRevision,
  OnceOutcome,
  OnceWrite,
  ReadAllOptions,
  RecordedEvent,
  StreamWrite,
  StreamWriteOutcome,
  SubscribeOptions,
  Subscription,
  ValidationError,
  WrongExpectedVersionError,
  replayOutcome,
} from '@purser/core';
import {
  NO_POSITION,
  describeActual,
  describeExpected,
  findStoredRun,
  isStreamNotFound,
  isWrongExpectedVersion,
  mapWithConcurrency,
  onceStreamId,
  toEventData,
  toRecordedEvent,
} from './esdb-codec';
import {
  AllScanner,
  PageReader,
  findAnchor,
  hasFilter,
  lastNonSystemPosition,
  scanForward,
} from './esdb-scan';
import { EsdbRetryOptions, EsdbSubscription } from './esdb-subscription';

export * from './esdb-codec';
export * from './esdb-scan';
export * from './esdb-subscription';

/*
 * EventStoreDB adapter of the EventStore port (gRPC client @eventstore/db-client 6.x, server 22.6 or later).
 *
 * POSITIONS AND CHECKPOINTS: see esdb-scan.ts.
 *
 * IDEMPOTENCY
 * The event id is the EventStoreDB event id (a UUID; other ids are mapped to a deterministic UUID v5, the
 * original stays in the stored metadata). The server answers a re-append of the same ids with the original
 * result: reliably with an exact expected revision (it compares the ids at expected+1..), best effort with
 * 'any'/'stream_exists' (a cache of recent event ids). When the server refuses with a wrong expected version,
 * the adapter reads the stream's tail: if the ids are all there, in order, it answers their original result.
 * Not covered: re-appending with 'any' after the server forgot the ids (restart, cache eviction) or with an
 * expected revision equal to the stream's current one; the server then writes the events again.
 *
 * APPEND ONCE
 * EventStoreDB has no index across a stream, so appendOnce gives each (scope, key) a stream of its own
 * (onceStreamId: the write's stream, scope and key) and appends the record there with expected "no stream": the
 * server lets exactly one writer create it, whatever the retries, processes or server restarts. The record's
 * EventStoreDB id is fresh on each attempt, so the server never answers a replay as a success of its own: every
 * replay comes back as a version conflict, and the stored first event answers it (duplicate or differs).
 */

const DEFAULT_READ_ALL_MAX = 1000;
/** readAll scans at most this many $all events per call; the checkpoint tells the caller where it stopped. */
const READ_ALL_SCAN_BUDGET = 10_000;
const DEFAULT_BATCH_SIZE = 1000;
const TAIL_WINDOW = 256;
const PROBE_TIMEOUT_MS = 5000;

export interface EsdbEventStoreOptions {
  /** How many writes of one appendMany run at once. */
  appendConcurrency?: number;
  retry?: EsdbRetryOptions;
  /** Told about every connection drop of a subscription before it resubscribes; for logs and metrics. */
  onSubscriptionDrop?: (error: unknown, attempt: number) => void;
}

export class EsdbEventStore implements EventStore {
  readonly name = 'eventstoredb';
  private readonly client: EventStoreDBClient;
  private readonly subscriptions = new Set<EsdbSubscription>();
  private closed = false;

  constructor(
    connectionString: string,
    private readonly options: EsdbEventStoreOptions = {},
  ) {
    this.client = EventStoreDBClient.connectionString(connectionString);
  }

  async append(streamId: string, events: EventToAppend[], expected: ExpectedRevision): Promise<AppendResult> {
    this.assertOpen();
    if (!streamId || streamId.startsWith('$')) throw new ValidationError(`invalid stream id "${streamId}"`);
    if (events.length === 0) throw new ValidationError('an append needs at least one event');
    const data = events.map(toEventData);
    try {
      const res = await this.client.appendToStream(streamId, data, { expectedRevision: expected });
      const commit = res.position?.commit;
      const position =
        commit !== undefined && commit !== NO_POSITION
          ? commit
          : await this.positionOfRevision(streamId, res.nextExpectedRevision);
      return { nextRevision: res.nextExpectedRevision, position };
    } catch (err) {
      if (!isWrongExpectedVersion(err)) throw err;
      const earlier = await this.earlierAppend(
        streamId,
        data.map((d) => d.id),
      );
      if (earlier) return earlier;
      throw new WrongExpectedVersionError(
        streamId,
        describeExpected(expected),
        describeActual(err.actualVersion),
      );
    }
  }

  async appendMany(writes: StreamWrite[]): Promise<StreamWriteOutcome[]> {
    this.assertOpen();
    // Writes to different streams run concurrently; writes to one stream run in order, so each sees the revision
    // the previous one left (as on SQLite, where the whole call is one transaction).
    const byStream = new Map<string, number[]>();
    writes.forEach((w, i) => {
      const list = byStream.get(w.streamId);
      if (list) list.push(i);
      else byStream.set(w.streamId, [i]);
    });
    const outcomes = new Array<StreamWriteOutcome>(writes.length);
    await mapWithConcurrency([...byStream.values()], this.options.appendConcurrency ?? 8, async (indexes) => {
      for (const i of indexes) {
        const w = writes[i];
        try {
          outcomes[i] = { ok: true, result: await this.append(w.streamId, w.events, w.expected) };
        } catch (error) {
          outcomes[i] = { ok: false, error: error instanceof Error ? error : new Error(String(error)) };
        }
      }
    });
    return outcomes;
  }

  async appendOnce(writes: OnceWrite[], options: AppendOnceOptions = {}): Promise<OnceOutcome[]> {
    this.assertOpen();
    // One key's writes run in order (the first records, the later ones are its replays); other keys concurrently.
    const byKey = new Map<string, number[]>();
    writes.forEach((w, i) => {
      const id = onceStreamId(w);
      const list = byKey.get(id);
      if (list) list.push(i);
      else byKey.set(id, [i]);
    });
    const outcomes = new Array<OnceOutcome>(writes.length);
    await mapWithConcurrency([...byKey.values()], this.options.appendConcurrency ?? 8, async (indexes) => {
      for (const i of indexes) outcomes[i] = await this.appendOnceOne(writes[i], options);
    });
    return outcomes;
  }

  private async appendOnceOne(w: OnceWrite, options: AppendOnceOptions): Promise<OnceOutcome> {
    if (!w.streamId || w.streamId.startsWith('$'))
      throw new ValidationError(`invalid stream id "${w.streamId}"`);
    for (const f of w.formerly ?? []) {
      const [first] = await this.readStream(f.streamId, { maxCount: 1 });
      if (first && first.metadata.eventId === f.eventId && first.metadata.orgId === w.scope)
        return replayOutcome(first, w.event, options);
    }
    const streamId = onceStreamId(w);
    try {
      const res = await this.client.appendToStream(
        streamId,
        { ...toEventData(w.event), id: randomUUID() },
        { expectedRevision: 'no_stream' },
      );
      const commit = res.position?.commit;
      const position =
        commit !== undefined && commit !== NO_POSITION ? commit : await this.positionOfRevision(streamId, 0n);
      return { status: 'recorded', streamId, position };
    } catch (err) {
      if (!isWrongExpectedVersion(err)) throw err;
    }
    const [stored] = await this.readStream(streamId, { maxCount: 1 });
    if (!stored) throw new Error(`EventStoreDB refused to create ${streamId} but holds no event in it`);
    return replayOutcome(stored, w.event, options);
  }

  async readStream(
    streamId: string,
    options: { fromRevision?: bigint; maxCount?: number } = {},
  ): Promise<RecordedEvent[]> {
    this.assertOpen();
    if (options.maxCount !== undefined && options.maxCount <= 0) return [];
    const out: RecordedEvent[] = [];
    try {
      const reads = this.client.readStream(streamId, {
        fromRevision: options.fromRevision ?? START,
        maxCount: options.maxCount ?? Number.MAX_SAFE_INTEGER,
        direction: FORWARDS,
        resolveLinkTos: false,
      });
      for await (const resolved of reads) if (resolved.event) out.push(toRecordedEvent(resolved.event));
    } catch (err) {
      if (isStreamNotFound(err)) return [];
      throw err;
    }
    return out;
  }

  async streamRevisions(streamIds: string[]): Promise<Map<string, bigint>> {
    this.assertOpen();
    const out = new Map<string, bigint>();
    await mapWithConcurrency(
      [...new Set(streamIds)],
      this.options.appendConcurrency ?? 8,
      async (streamId) => {
        try {
          const reads = this.client.readStream(streamId, {
            fromRevision: END,
            direction: BACKWARDS,
            maxCount: 1,
            resolveLinkTos: false,
          });
          for await (const resolved of reads) if (resolved.event) out.set(streamId, resolved.event.revision);
        } catch (err) {
          if (!isStreamNotFound(err)) throw err;
        }
      },
    );
    return out;
  }

  async readAll(options: ReadAllOptions = {}): Promise<AllBatch> {
    this.assertOpen();
    const after = options.after ?? -1n;
    const maxCount = options.maxCount ?? DEFAULT_READ_ALL_MAX;
    const scanner = new AllScanner(after, options.filter, maxCount, READ_ALL_SCAN_BUDGET);
    const from = await this.resolveStart(after);
    const pageSize = hasFilter(options.filter) ? 500 : Math.min(500, Math.max(32, maxCount + 1));
    await scanForward(this.readPage, from, scanner, pageSize);
    return scanner.result();
  }

  subscribeToAll(options: SubscribeOptions, handler: (batch: AllBatch) => Promise<void>): Subscription {
    this.assertOpen();
    const batchSize = Math.max(1, options.batchSize ?? DEFAULT_BATCH_SIZE);
    const sub = new EsdbSubscription(
      {
        resolveStart: (after) => this.resolveStart(after),
        open: (from) =>
          this.client.subscribeToAll(
            { fromPosition: from, resolveLinkTos: false, filter: excludeSystemEvents() },
            { highWaterMark: batchSize },
          ),
      },
      { after: options.after ?? -1n, filter: options.filter, batchSize },
      handler,
      this.options.retry ?? {},
      this.options.onSubscriptionDrop,
    );
    this.subscriptions.add(sub);
    void sub.done.then(
      () => this.subscriptions.delete(sub),
      () => this.subscriptions.delete(sub),
    );
    return sub;
  }

  async headPosition(): Promise<bigint> {
    this.assertOpen();
    return lastNonSystemPosition(this.readPage, 32);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await Promise.all([...this.subscriptions].map((s) => s.stop()));
    await this.client.dispose();
  }

  /**
   * A position the server accepts, at or before `after`, from which reading forwards and skipping every event
   * whose commit position is <= `after` yields exactly the events after `after`. See POSITIONS in esdb-scan.ts.
   */
  private async resolveStart(after: bigint): Promise<ReadPosition> {
    if (after < 0n) return START;
    const at: Position = { commit: after, prepare: after };
    if (await this.isEventPosition(at)) return at;
    return findAnchor(this.readPage, after, 256);
  }

  /**
   * Whether an event sits exactly at `at`. The answer is trusted only when the server returns that very event:
   * a refusal, an empty answer, another event or no answer in time all mean "not known to be valid". Only the
   * commit position is compared: servers before 20.6 reported the transaction's first offset as prepare.
   */
  private async isEventPosition(at: Position): Promise<boolean> {
    const reads = this.client.readAll({
      fromPosition: at,
      direction: FORWARDS,
      maxCount: 1,
      resolveLinkTos: false,
    });
    const timer = setTimeout(() => {
      void reads.cancel().catch(() => undefined);
      reads.destroy(new Error('position probe timed out'));
    }, PROBE_TIMEOUT_MS);
    try {
      for await (const resolved of reads) {
        return resolved.event?.position.commit === at.commit;
      }
      return false;
    } catch {
      return false;
    } finally {
      clearTimeout(timer);
      void reads.cancel().catch(() => undefined);
    }
  }

  private readonly readPage: PageReader = async (from, direction, maxCount) => {
    const out: AllStreamRecordedEvent[] = [];
    for await (const resolved of this.client.readAll({
      fromPosition: from,
      direction,
      maxCount,
      resolveLinkTos: false,
    })) {
      if (!resolved.event) throw new Error('EventStoreDB returned a $all entry without an event');
      out.push(resolved.event);
    }
    return out;
  };

  private async positionOfRevision(streamId: string, revision: bigint): Promise<bigint> {
    const [event] = await this.readStream(streamId, { fromRevision: revision, maxCount: 1 });
    if (!event) throw new Error(`EventStoreDB reported no position for the append to ${streamId}`);
    return event.position;
  }

  /** After a version conflict: the original result when these event ids are already in the stream's tail. */
  private async earlierAppend(streamId: string, esdbIds: string[]): Promise<AppendResult | null> {
    const tail: EsdbRecordedEvent[] = [];
    try {
      const reads = this.client.readStream(streamId, {
        fromRevision: END,
        direction: BACKWARDS,
        maxCount: Math.max(TAIL_WINDOW, esdbIds.length * 2),
        resolveLinkTos: false,
      });
      for await (const resolved of reads) if (resolved.event) tail.unshift(resolved.event);
    } catch (err) {
      if (isStreamNotFound(err)) return null;
      throw err;
    }
    const found = findStoredRun(tail, esdbIds);
    if (found === 'partial') {
      throw new ConflictError(`some but not all of these events are already stored in ${streamId}`, [
        { field: 'eventId', problem: 'partial duplicate' },
      ]);
    }
    if (!found) return null;
    const last = toRecordedEvent(found);
    return { nextRevision: last.revision, position: last.position, duplicate: true };
  }

  private assertOpen(): void {
    if (this.closed) throw new Error('event store is closed');
  }
}
