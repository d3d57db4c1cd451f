import { EventMetadata, EventToAppend, RecordedEvent } from './events';

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
 * An event recorded at most once per (scope, key), whatever the engine. Its metadata carries the fingerprint of its
 * business payload (the caller's hash of its canonical form, e.g. sha256 hex), so that a replay of the key can be told
 * apart from a different payload reusing it.
 */
export type OnceEvent = EventToAppend & { metadata: EventMetadata & { fingerprint: string } };

/** An event stored by a plain append before its caller used appendOnce, that still counts as the key's record. */
export interface FormerRecord {
  streamId: string;
  /** Its store-level event id (metadata.eventId). */
  eventId: string;
}

export interface OnceWrite {
  /**
   * Whose key it is: the tenant (usage: the org). The same key in two scopes is two records. A stored record belongs
   * to a scope by its metadata.orgId.
   */
  scope: string;
  /** The caller's idempotency key (usage: the client's eventId), unique within its scope. */
  key: string;
  /** The stream the record belongs to (see appendOnce for where each engine puts it). */
  streamId: string;
  /** The record. Its metadata.eventId follows the rule of every append (unique in the store, stable on retries). */
  event: OnceEvent;
  /**
   * Where a record of this key may have been stored by plain appends before (a data layout kept readable). A match
   * is an event with that id in that stream whose metadata.orgId is the scope; it answers like a stored record and
   * nothing is written. SQLite finds the id anywhere in the stream; EventStoreDB looks at the stream's first event
   * (its former layout held one record per stream).
   */
  formerly?: FormerRecord[];
}

/** What appendOnce did with one write. `streamId` and `position` locate the key's record (new or stored). */
export type OnceOutcome =
  /** The key was new in its scope: the event is stored. */
  | { status: 'recorded'; streamId: string; position: bigint }
  /** The key was already recorded with the same fingerprint: nothing written. */
  | { status: 'duplicate'; streamId: string; position: bigint }
  /** The key was already recorded with another payload: nothing written; the stored record's fingerprint. */
  | { status: 'differs'; streamId: string; position: bigint; storedFingerprint: string };

export interface AppendOnceOptions {
  /**
   * The fingerprint of a stored record that carries none (stored before fingerprints, or by a plain append). Without
   * it such a record counts as the same payload (a duplicate).
   */
  fingerprintOf?: (stored: RecordedEvent) => string;
}

/**
 * The answer of appendOnce for a key whose record is stored: a duplicate when the fingerprints are equal, else
 * differs with the stored one. For the adapters.
 */
export function replayOutcome(
  stored: RecordedEvent,
  event: OnceEvent,
  options: AppendOnceOptions = {},
): OnceOutcome {
  const own = (stored.metadata as { fingerprint?: unknown }).fingerprint;
  const fingerprint =
    typeof own === 'string' ? own : (options.fingerprintOf?.(stored) ?? event.metadata.fingerprint);
  const at = { streamId: stored.streamId, position: stored.position };
  return fingerprint === event.metadata.fingerprint
    ? { status: 'duplicate', ...at }
    : { status: 'differs', ...at, storedFingerprint: fingerprint };
}

/**
 * The event store port. All adapters pass libs/testkit/src/contracts/event-store.contract.ts.
 *
 * - append is atomic (all of its events or none), checks the expected revision and fails with
 *   WrongExpectedVersionError, and is idempotent: appending again events whose ids are already stored in
 *   that stream writes nothing and answers the original result.
 * - appendOnce records each event at most once per (scope, key), identically on every engine (see there).
 * - system events (ESDB '$'-prefixed types and streams) are never returned.
 */
export interface EventStore {
  readonly name: string;
  append(streamId: string, events: EventToAppend[], expected: ExpectedRevision): Promise<AppendResult>;
  /** Independent appends, each atomic on its own; one outcome per write, in order. */
  appendMany(writes: StreamWrite[]): Promise<StreamWriteOutcome[]>;
  /**
   * Idempotent appends by a caller's key: each write's event is stored unless its key is already recorded in its
   * scope, and the answer says which (one outcome per write, in order): recorded, duplicate (same fingerprint), or
   * differs (another fingerprint: the stored one is given, nothing is written). Keys are scoped: the same key in
   * two scopes is two records, and nothing about one scope's keys shows in another's answers. Exactly once holds
   * under any number of retries and concurrent callers, also across processes; a key repeated within one call is
   * recorded by its first write and answered for the later ones as a replay of it.
   *
   * Where the record goes: SQLite appends it to `streamId` (a key table in the same transaction guards the scope
   * and key); EventStoreDB, which has no index across a stream, gives each record a stream of its own,
   * `<streamId>|<scope>|<key>` (scope and key URI-encoded), appended with expected "no stream". The outcome names
   * the stream; read records through readAll (by event type, or by `streamId` as a stream prefix), not by
   * reading `streamId`.
   *
   * A malformed write (an invalid stream id, an event id already used by another record) rejects the call; on
   * EventStoreDB other writes of the call may be stored by then. Calling again is safe: appendOnce is idempotent.
   */
  appendOnce(writes: OnceWrite[], options?: AppendOnceOptions): Promise<OnceOutcome[]>;
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
