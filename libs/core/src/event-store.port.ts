import { EventToAppend, RecordedEvent } from './events';

export const EVENT_STORE = Symbol('EventStore');

/**
 * 'no_stream': the stream must not exist. 'stream_exists': it must exist. 'any': no check.
 * A bigint: the revision of the stream's last event must be exactly this.
 */
export type ExpectedRevision = 'any' | 'no_stream' | 'stream_exists' | bigint;

export interface AppendResult {
  /** Revision of the last event in the stream after the append. */
  nextRevision: bigint;
  /** Global position of the last appended event. */
  position: bigint;
  /** True when nothing was written because these events were already stored (an idempotent replay). SQLite always
   * reports it; EventStoreDB reports it when the adapter detects the replay (the server may also dedupe silently). */
  duplicate?: boolean;
}

export interface StreamWrite {
  streamId: string;
  events: EventToAppend[];
  expected: ExpectedRevision;
}

export type StreamWriteOutcome = { ok: true; result: AppendResult } | { ok: false; error: Error };

export interface EventFilter {
  /** Only events whose type is one of these. */
  eventTypes?: string[];
  /** Only events whose stream id starts with one of these. */
  streamPrefixes?: string[];
}

export interface ReadAllOptions {
  /** Exclusive: only events with a position strictly greater than this. Default: from the start. */
  after?: bigint;
  maxCount?: number;
  filter?: EventFilter;
}

/**
 * A batch read from $all. `checkpoint` is the position up to which the store has been scanned:
 * every matching event at a position <= checkpoint is in this or an earlier batch. It may be
 * greater than the last event's position when filtered-out events were skipped.
 */
export interface AllBatch {
  events: RecordedEvent[];
  checkpoint: bigint;
}

export interface SubscribeOptions {
  after?: bigint;
  filter?: EventFilter;
  /** Largest batch handed to the handler at once. */
  batchSize?: number;
}

export interface Subscription {
  /** Resolves once the handler is no longer running and will not be called again. */
  stop(): Promise<void>;
  /** Resolves when the subscription ends: with undefined after stop(), rejected on a fatal error. */
  readonly done: Promise<void>;
}

/**
 * The event store port. All adapters pass test/contracts/event-store.contract.ts.
 *
 * - append is atomic (all of its events or none), checks the expected revision and fails with
 *   WrongExpectedVersionError, and is idempotent: appending again events whose ids are already stored in
 *   that stream writes nothing and answers the original result.
 * - system events (ESDB '$'-prefixed types and streams) are never returned.
 */
export interface EventStore {
  readonly name: string;
  /**
   * True when an event id can be stored only once in the whole store, whatever the stream (SQLite: a unique index);
   * appending it again to its own stream is an idempotent replay, to another stream a ConflictError. False when ids
   * are idempotent only within a stream and only as the server guarantees it (EventStoreDB): callers that need
   * exactly-once by id across any number of retries use one stream per id with expected "no_stream".
   */
  readonly uniqueEventIds: boolean;
  append(streamId: string, events: EventToAppend[], expected: ExpectedRevision): Promise<AppendResult>;
  /** Independent appends, each atomic on its own; one outcome per write, in order. */
  appendMany(writes: StreamWrite[]): Promise<StreamWriteOutcome[]>;
  /** The stream's events in revision order; [] when the stream does not exist. */
  readStream(
    streamId: string,
    options?: { fromRevision?: bigint; maxCount?: number },
  ): Promise<RecordedEvent[]>;
  /**
   * The revision of each existing stream's last event, by stream id; a stream that does not exist is absent. One
   * cheap call to tell which cached folds are still current (a cache is current when its revision is the stream's).
   */
  streamRevisions(streamIds: string[]): Promise<Map<string, bigint>>;
  readAll(options?: ReadAllOptions): Promise<AllBatch>;
  /**
   * Catch-up then live subscription to $all from `after`. The handler is called with batches in position
   * order, never concurrently; if it throws, the subscription ends with that error (done rejects).
   * Adapters resubscribe by themselves from the last handled checkpoint after a connection drop.
   */
  subscribeToAll(options: SubscribeOptions, handler: (batch: AllBatch) => Promise<void>): Subscription;
  /** Position of the last event in $all (-1 when empty). */
  headPosition(): Promise<bigint>;
  close(): Promise<void>;
}
