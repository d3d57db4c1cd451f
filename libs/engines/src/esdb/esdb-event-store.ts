import { createHash, randomUUID } from 'node:crypto';
import {
  AllStreamRecordedEvent,
  AllStreamResolvedEvent,
  AllStreamSubscription,
  BACKWARDS,
  END,
  ErrorType,
  EventData,
  EventStoreDBClient,
  FORWARDS,
  JSONType,
  Position,
  ReadPosition,
  RecordedEvent as EsdbRecordedEvent,
  START,
  WrongExpectedVersionError as EsdbWrongExpectedVersionError,
  excludeSystemEvents,
  isCommandError,
} from '@eventstore/db-client';
import {
  AllBatch,
  AppendOnceOptions,
  AppendResult,
  ConflictError,
  EventFilter,
  EventMetadata,
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

/*
 * EventStoreDB adapter of the EventStore port (gRPC client @eventstore/db-client 6.x, server 22.6 or later).
 *
 * POSITIONS
 * EventStoreDB positions are byte offsets in its transaction log, given as a pair {commit, prepare}. Every append
 * made over gRPC is an implicit transaction: each event is its own self-committed prepare record, and in $all it
 * sits at {commit: p, prepare: p} where p is the record's own offset. So within every append the events have
 * distinct commit positions, and the commit position alone is unique and strictly increasing in $all order.
 * The append answer's position is {commit: p, prepare: p} of the append's LAST event (the server acknowledges
 * the record that ends the transaction), so "a projection's checkpoint >= the append's position" means exactly
 * "the projection has handled every event of that append". Our `position: bigint` is therefore `position.commit`.
 *
 * The one exception are explicit transactions of the legacy TCP client API (not offered over gRPC): their events
 * share the commit position of the transaction's commit record and differ by prepare position. The adapter keeps
 * such a group whole: a batch never ends inside it (see AllScanner and takeBatch), so an exclusive `after`
 * equal to that shared commit position never hides a part of the group.
 *
 * "after" is exclusive, while EventStoreDB reads and subscribes from a position inclusively, and only from a
 * valid record boundary: a position inside a record is refused or, on older servers, silently yields nothing.
 * Positions are sparse byte offsets, so callers may hand us values that are no record boundary (`p - 1n`).
 * resolveStart() therefore never sends an unverified position: it reads one event at {after, after} and uses that
 * position only when the server answers with an event at exactly that commit position; otherwise it reads $all
 * backwards from the end to the last event at or before `after` (the anchor). Reading then starts at a verified
 * position at or before `after` and skips, client side, every event whose commit position is <= `after`.
 *
 * CHECKPOINTS
 * A batch's checkpoint is the commit position of the last $all event the adapter has scanned, including events
 * the filter dropped and, for readAll, system events. It is always a real event position, hence a valid and
 * cheap place to resume from. Filters (event types, stream prefixes) are applied client side:
 * - readAll: client 6.x sends no filter with readAll at all;
 * - subscribeToAll: the server only filters out system events (excludeSystemEvents). A server-side type or
 *   prefix filter would make the filtered-out stretch visible only through checkpointReached, whose position is
 *   {next record's offset, 0}: as an exclusive bigint it would either claim the next, not yet delivered event
 *   (lost on resume) or be `offset - 1`, no record boundary to resume from. Scanning every non-system event
 *   client side costs bandwidth but lets the checkpoint pass every filtered-out event of ours, which is what
 *   waitFor(position) needs. checkpointReached is therefore not used.
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

/** Namespace of the UUID v5 ids derived from event ids that are not UUIDs. Never change it. */
export const PURSER_EVENT_ID_NAMESPACE = '4a8c6008-962a-4c79-b7b3-8f895c96eb3b';

const UUID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const NIL_UUID = '00000000-0000-0000-0000-000000000000';
/** What the server sends (as -1) when it does not know an event's position. */
const NO_POSITION = 2n ** 64n - 1n;

const DEFAULT_READ_ALL_MAX = 1000;
/** readAll scans at most this many $all events per call; the checkpoint tells the caller where it stopped. */
const READ_ALL_SCAN_BUDGET = 10_000;
const DEFAULT_BATCH_SIZE = 1000;
const TAIL_WINDOW = 256;
const PROBE_TIMEOUT_MS = 5000;

export interface EsdbRetryOptions {
  initialDelayMs?: number;
  maxDelayMs?: number;
  /** Consecutive failed (re)subscriptions before the subscription gives up and `done` rejects. */
  maxAttempts?: number;
}

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
   * whose commit position is <= `after` yields exactly the events after `after`. See the header comment.
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

// ---------------------------------------------------------------------------------------------------------------
// Subscription

/** What a subscription needs from the store; an interface so the loop can be exercised without a server. */
export interface SubscriptionSource {
  resolveStart(after: bigint): Promise<ReadPosition>;
  open(from: ReadPosition): AllStreamSubscription;
}

export interface SubscriptionSettings {
  after: bigint;
  filter?: EventFilter;
  batchSize: number;
}

class HandlerFailure {
  constructor(readonly error: unknown) {}
}

/**
 * Catch-up then live subscription. One loop: take the events already buffered (up to batchSize), hand them to
 * the handler, await it, repeat. Between batches the stream is not read, so the client stops pulling from the
 * server (stream back-pressure) and the handler never runs concurrently. A stream error or end that is not a
 * stop is a connection drop: the loop resubscribes from the last handled checkpoint after a growing delay.
 * A handler error ends the subscription and rejects `done` with it.
 */
export class EsdbSubscription implements Subscription {
  readonly done: Promise<void>;
  private stopped = false;
  private current: AllStreamSubscription | null = null;
  private readonly wake = new Signal();
  private readonly stopSignal = new Signal();

  constructor(
    private readonly source: SubscriptionSource,
    private readonly settings: SubscriptionSettings,
    private readonly handler: (batch: AllBatch) => Promise<void>,
    private readonly retry: EsdbRetryOptions,
    private readonly onDrop?: (error: unknown, attempt: number) => void,
  ) {
    this.done = new Promise<void>((resolve) => setImmediate(resolve)).then(() => this.run());
    this.done.catch(() => undefined);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.wake.notify();
    this.stopSignal.notify();
    const current = this.current;
    if (current) void current.unsubscribe().catch(() => undefined);
    await this.done.catch(() => undefined);
  }

  private async run(): Promise<void> {
    let checkpoint = this.settings.after;
    let failures = 0;
    while (!this.stopped) {
      let sub: AllStreamSubscription | null = null;
      let drop: unknown;
      try {
        const from = await this.source.resolveStart(checkpoint);
        if (this.stopped) return;
        sub = this.source.open(from);
        this.current = sub;
        sub.on('confirmation', () => (failures = 0));
        drop = await this.pump(sub, checkpoint, (handled) => {
          checkpoint = handled;
          failures = 0;
        });
      } catch (err) {
        if (err instanceof HandlerFailure) throw err.error;
        drop = err;
      } finally {
        this.current = null;
        if (sub) await release(sub);
      }
      if (this.stopped) return;
      failures++;
      if (isFatal(drop) || failures >= (this.retry.maxAttempts ?? Infinity)) throw drop;
      this.onDrop?.(drop, failures);
      await this.stopSignal.wait(backoffDelay(failures, this.retry));
    }
  }

  /** Reads and handles batches until the stream fails or ends (returns why) or the subscription is stopped. */
  private async pump(
    sub: AllStreamSubscription,
    from: bigint,
    handled: (checkpoint: bigint) => void,
  ): Promise<unknown> {
    let checkpoint = from;
    let failure: unknown;
    let ended = false;
    sub.on('error', (err) => {
      failure ??= err;
      this.wake.notify();
    });
    sub.on('end', () => {
      ended = true;
      this.wake.notify();
    });
    sub.on('close', () => {
      ended = true;
      this.wake.notify();
    });
    sub.on('readable', () => this.wake.notify());

    let carry: AllStreamResolvedEvent | null = null;
    for (;;) {
      if (this.stopped) return undefined;
      const taken: { items: AllStreamResolvedEvent[]; carry: AllStreamResolvedEvent | null } = takeBatch(
        () => (sub.read() as AllStreamResolvedEvent | null) ?? null,
        this.settings.batchSize,
        sameCommit,
        carry,
      );
      carry = taken.carry;
      if (taken.items.length > 0) {
        const scanner = new AllScanner(checkpoint, this.settings.filter);
        for (const item of taken.items) if (item.event) scanner.offer(item.event);
        const batch = scanner.result();
        if (batch.checkpoint > checkpoint) {
          try {
            await this.handler(batch);
          } catch (err) {
            throw new HandlerFailure(err);
          }
          checkpoint = batch.checkpoint;
          handled(checkpoint);
        }
        continue;
      }
      if (failure !== undefined) return failure;
      if (ended) return new Error('EventStoreDB ended the subscription');
      await this.wake.wait();
    }
  }
}

async function release(sub: AllStreamSubscription): Promise<void> {
  // Keep a listener: the client may still forward a late error, and an unheard 'error' would crash the process.
  sub.on('error', () => undefined);
  await sub.unsubscribe().catch(() => undefined);
  sub.destroy();
}

function sameCommit(a: AllStreamResolvedEvent, b: AllStreamResolvedEvent): boolean {
  return !!a.event && !!b.event && a.event.position.commit === b.event.position.commit;
}

/** Errors a resubscription cannot cure. */
function isFatal(err: unknown): boolean {
  return (
    err instanceof Error &&
    isCommandError(err) &&
    [ErrorType.ACCESS_DENIED, ErrorType.INVALID_ARGUMENT, ErrorType.UNSUPPORTED].includes(err.type)
  );
}

/** A one-slot wake-up: notify() before wait() is not lost. */
class Signal {
  private pending = false;
  private waiter: (() => void) | null = null;

  notify(): void {
    this.pending = true;
    const waiter = this.waiter;
    this.waiter = null;
    waiter?.();
  }

  wait(timeoutMs?: number): Promise<void> {
    if (this.pending) {
      this.pending = false;
      return Promise.resolve();
    }
    return new Promise<void>((resolve) => {
      const finish = (): void => {
        if (timer) clearTimeout(timer);
        if (this.waiter === finish) this.waiter = null;
        this.pending = false;
        resolve();
      };
      const timer = timeoutMs === undefined ? undefined : setTimeout(finish, timeoutMs);
      this.waiter = finish;
    });
  }
}

// ---------------------------------------------------------------------------------------------------------------
// Pure parts, exported for the unit tests.

/** Reads one page of $all: forwards inclusive of `from`, backwards exclusive of it (EventStoreDB semantics). */
export type PageReader = (
  from: ReadPosition,
  direction: typeof FORWARDS | typeof BACKWARDS,
  maxCount: number,
) => Promise<AllStreamRecordedEvent[]>;

/** Orders $all positions: by commit, then by prepare. */
export function comparePositions(a: Position, b: Position): number {
  if (a.commit !== b.commit) return a.commit < b.commit ? -1 : 1;
  if (a.prepare !== b.prepare) return a.prepare < b.prepare ? -1 : 1;
  return 0;
}

export function isSystemEvent(e: { type: string; streamId: string }): boolean {
  return e.type.startsWith('$') || e.streamId.startsWith('$');
}

export function hasFilter(filter?: EventFilter): boolean {
  return !!filter && (!!filter.eventTypes?.length || !!filter.streamPrefixes?.length);
}

/** Both parts of the filter must hold; an absent or empty part holds for every event. */
export function matchesFilter(
  filter: EventFilter | undefined,
  e: { type: string; streamId: string },
): boolean {
  if (filter?.eventTypes?.length && !filter.eventTypes.includes(e.type)) return false;
  if (filter?.streamPrefixes?.length && !filter.streamPrefixes.some((p) => e.streamId.startsWith(p)))
    return false;
  return true;
}

/**
 * Folds $all events, in order, into one batch after `after` (exclusive). Events at or before `after`, and
 * repeats of an already scanned position (page overlaps), are skipped. The checkpoint moves with every scanned
 * event, matching or not. Once the batch is full (maxCount events, or maxScanned scanned) it still takes the
 * rest of a group sharing one commit position, then refuses the next event: offer() returns false.
 */
export class AllScanner {
  private readonly events: RecordedEvent[] = [];
  private checkpoint: bigint;
  private last: Position | null = null;
  private scanned = 0;

  constructor(
    private readonly after: bigint,
    private readonly filter?: EventFilter,
    private readonly maxCount = Infinity,
    private readonly maxScanned = Infinity,
  ) {
    this.checkpoint = after;
  }

  offer(e: AllStreamRecordedEvent): boolean {
    if (e.position.commit <= this.after) return true;
    if (this.last && comparePositions(e.position, this.last) <= 0) return true;
    const full = this.events.length >= this.maxCount || this.scanned >= this.maxScanned;
    if (full && e.position.commit !== this.checkpoint) return false;
    this.last = e.position;
    this.checkpoint = e.position.commit;
    this.scanned++;
    if (!isSystemEvent(e) && matchesFilter(this.filter, e)) this.events.push(toRecordedEvent(e));
    return true;
  }

  result(): AllBatch {
    return { events: [...this.events], checkpoint: this.checkpoint };
  }
}

/** Reads $all forwards from `from` into the scanner until it is full or the end of $all is reached. */
export async function scanForward(
  read: PageReader,
  from: ReadPosition,
  scanner: AllScanner,
  pageSize: number,
): Promise<void> {
  let position = from;
  for (;;) {
    const page = await read(position, FORWARDS, pageSize);
    for (const e of page) if (!scanner.offer(e)) return;
    if (page.length < pageSize) return;
    const next = page[page.length - 1].position;
    if (typeof position === 'object' && comparePositions(next, position) <= 0) {
      throw new Error('EventStoreDB $all read made no progress');
    }
    position = next;
  }
}

/** The position of the last event whose commit position is <= `after` (START when there is none). */
export async function findAnchor(read: PageReader, after: bigint, pageSize: number): Promise<ReadPosition> {
  let position: ReadPosition = END;
  for (;;) {
    const page = await read(position, BACKWARDS, pageSize);
    for (const e of page) if (e.position.commit <= after) return e.position;
    if (page.length < pageSize) return START;
    const next = page[page.length - 1].position;
    if (typeof position === 'object' && comparePositions(next, position) >= 0) {
      throw new Error('EventStoreDB $all backward read made no progress');
    }
    position = next;
  }
}

/** Commit position of the last non-system event in $all, -1 when there is none. */
export async function lastNonSystemPosition(read: PageReader, pageSize: number): Promise<bigint> {
  let position: ReadPosition = END;
  for (;;) {
    const page = await read(position, BACKWARDS, pageSize);
    for (const e of page) if (!isSystemEvent(e)) return e.position.commit;
    if (page.length < pageSize) return -1n;
    const next = page[page.length - 1].position;
    if (typeof position === 'object' && comparePositions(next, position) >= 0) {
      throw new Error('EventStoreDB $all backward read made no progress');
    }
    position = next;
  }
}

/**
 * Takes what is immediately available, up to `max` items (a carried item first). When full, it goes on while the
 * next item belongs to the same group as the last one, so a group is never split; the first item of the next
 * group is handed back as `carry`.
 */
export function takeBatch<T>(
  next: () => T | null,
  max: number,
  sameGroup: (a: T, b: T) => boolean,
  carry: T | null,
): { items: T[]; carry: T | null } {
  const items: T[] = carry === null ? [] : [carry];
  while (items.length < max) {
    const item = next();
    if (item === null) return { items, carry: null };
    items.push(item);
  }
  for (;;) {
    const item = next();
    if (item === null) return { items, carry: null };
    if (!sameGroup(items[items.length - 1], item)) return { items, carry: item };
    items.push(item);
  }
}

/**
 * Looks for `ids` as a run of consecutive events (in order) in a stream's tail (ascending revisions). Answers the
 * run's last event, 'partial' when only some of the ids are there, null when none is.
 */
export function findStoredRun<E extends { id: string }>(tail: E[], ids: string[]): E | 'partial' | null {
  const wanted = ids.map((id) => id.toLowerCase());
  const stored = tail.map((e) => e.id.toLowerCase());
  for (let i = 0; i + wanted.length <= stored.length; i++) {
    if (wanted.every((id, k) => stored[i + k] === id)) return tail[i + wanted.length - 1];
  }
  return wanted.some((id) => stored.includes(id)) ? 'partial' : null;
}

export function backoffDelay(attempt: number, retry: EsdbRetryOptions = {}): number {
  const initial = retry.initialDelayMs ?? 100;
  const max = retry.maxDelayMs ?? 5000;
  return Math.min(max, initial * 2 ** Math.max(0, attempt - 1));
}

/** Runs `fn` over the items with at most `limit` at once; results in the items' order. */
export async function mapWithConcurrency<T, R>(
  items: T[],
  limit: number,
  fn: (item: T) => Promise<R>,
): Promise<R[]> {
  const results = new Array<R>(items.length);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) {
      const i = next++;
      results[i] = await fn(items[i]);
    }
  };
  await Promise.all(Array.from({ length: Math.min(Math.max(1, limit), items.length) }, worker));
  return results;
}

/**
 * The stream of one appendOnce record: `<streamId>|<scope>|<key>`, scope and key URI-encoded (so neither holds a
 * "|"), hence one stream per (streamId, scope, key) and never one for two.
 */
export function onceStreamId(w: { streamId: string; scope: string; key: string }): string {
  return `${w.streamId}|${encodeURIComponent(w.scope)}|${encodeURIComponent(w.key)}`;
}

/** RFC 4122 name-based UUID, version 5 (SHA-1). */
export function uuidV5(name: string, namespace: string): string {
  const hash = createHash('sha1')
    .update(Buffer.from(namespace.replace(/-/g, ''), 'hex'))
    .update(name, 'utf8')
    .digest();
  const b = hash.subarray(0, 16);
  b[6] = (b[6] & 0x0f) | 0x50;
  b[8] = (b[8] & 0x3f) | 0x80;
  const h = b.toString('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}

/** The EventStoreDB event id for one of ours: the UUID itself, or a UUID v5 derived from any other id. */
export function toEsdbEventId(eventId: string): string {
  const lower = eventId.toLowerCase();
  return UUID_RE.test(lower) && lower !== NIL_UUID ? lower : uuidV5(eventId, PURSER_EVENT_ID_NAMESPACE);
}

export function toEventData(e: EventToAppend): EventData {
  return {
    id: toEsdbEventId(e.metadata.eventId),
    contentType: 'application/json',
    type: e.type,
    data: e.data as JSONType,
    // Our metadata, whole (including our own eventId), is the EventStoreDB event metadata.
    metadata: e.metadata as unknown as JSONType,
  };
}

export function toRecordedEvent(e: EsdbRecordedEvent): RecordedEvent {
  const position = e.position;
  if (!position || position.commit === NO_POSITION) {
    throw new Error(
      `EventStoreDB did not report the position of ${e.streamId}@${e.revision}: Purser needs EventStoreDB 22.6 or ` +
        'later, and events written by legacy explicit transactions have no position on stream reads',
    );
  }
  return {
    streamId: e.streamId,
    revision: e.revision,
    position: position.commit,
    type: e.type,
    data: e.data,
    metadata: toMetadata(e.metadata, e.id),
  };
}

/**
 * Events written through this adapter carry our metadata as is. An event written by another client keeps
 * whatever object metadata it has, with the EventStoreDB event id as its eventId.
 */
export function toMetadata(raw: unknown, esdbId: string): EventMetadata {
  if (raw && typeof raw === 'object' && !Array.isArray(raw) && !(raw instanceof Uint8Array)) {
    const m = raw as Partial<EventMetadata>;
    return (typeof m.eventId === 'string' ? m : { ...m, eventId: esdbId }) as EventMetadata;
  }
  return { eventId: esdbId } as EventMetadata;
}

export function describeExpected(expected: ExpectedRevision): string {
  return typeof expected === 'bigint' ? expected.toString() : expected;
}

export function describeActual(actual: bigint | string): string {
  return typeof actual === 'bigint' && actual >= 0n ? actual.toString() : 'no_stream';
}

function isWrongExpectedVersion(err: unknown): err is EsdbWrongExpectedVersionError {
  return (
    err instanceof EsdbWrongExpectedVersionError ||
    (err instanceof Error && isCommandError(err) && err.type === ErrorType.WRONG_EXPECTED_VERSION)
  );
}

function isStreamNotFound(err: unknown): boolean {
  return err instanceof Error && isCommandError(err) && err.type === ErrorType.STREAM_NOT_FOUND;
}
