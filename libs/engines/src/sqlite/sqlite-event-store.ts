import Database from 'better-sqlite3';
import { SqliteCheckpointer, checkpointerFor } from './checkpointer';
import { EventEmitter } from 'node:events';
import { RecentRows } from './sqlite-recent-rows';
import { Row, eventIdTaken, filterParams, hasFilter, toRecorded } from './sqlite-event-rows';
import { EventStatements, filteredRead, openEventsDb, prepareEventStatements } from './sqlite-event-schema';
import { pollingSubscription } from './sqlite-subscription';
import {
  AllBatch,
  AppendResult,
  ConflictError,
  EventStore,
  EventToAppend,
  ExpectedRevision,
  AppendOnceOptions,
  OnceOutcome,
  OnceWrite,
  ReadAllOptions,
  replayOutcome,
  RecordedEvent,
  StreamWrite,
  StreamWriteOutcome,
  SubscribeOptions,
  Subscription,
  ValidationError,
  WrongExpectedVersionError,
} from '@purser/core';

export interface SqliteEventStoreOptions {
  /** How often a live subscription looks for events written by another process on the same file. */
  pollIntervalMs?: number;
  /** How long a caught-up subscription lets appends accumulate before it reads them (default 2 ms). */
  coalesceMs?: number;
  /**
   * NORMAL (default): in WAL mode every acknowledged append survives a crash of the process; an OS crash or power
   * loss may lose the last commits. FULL: also fsync on every commit (durable against power loss, ~100x slower per
   * commit on typical disks).
   */
  synchronous?: 'NORMAL' | 'FULL';
  /** Checkpoint from a worker thread (SqliteCheckpointer) instead of only in the committing call. Default false. */
  checkpointThread?: boolean;
}

/**
 * The embedded event store: one SQLite file in WAL mode. Positions are the rowid of the events table
 * (1, 2, 3...), so they are dense and strictly increasing in commit order. Every append is one SQLite
 * transaction (atomic), begun IMMEDIATE so that several processes on the same file (API and worker) serialize on
 * the write lock instead of failing.
 */
export class SqliteEventStore implements EventStore {
  readonly name = 'sqlite';
  private readonly db: Database.Database;
  private readonly emitter = new EventEmitter();
  private readonly pollIntervalMs: number;
  private readonly coalesceMs: number;
  private closed = false;
  private readonly stmts: EventStatements;
  private readonly appendTx: Database.Transaction<
    (streamId: string, events: EventToAppend[], expected: ExpectedRevision) => AppendResult
  >;
  private readonly appendManyTx: Database.Transaction<(writes: StreamWrite[]) => StreamWriteOutcome[]>;
  private readonly appendOnceTx: Database.Transaction<
    (writes: OnceWrite[], options: AppendOnceOptions) => OnceOutcome[]
  >;
  private readonly filteredReads = new Map<string, Database.Statement>();
  private readonly checkpointer: SqliteCheckpointer | null;
  /** The rows this store appended last, for readers in this process (see RecentRows). */
  private readonly recent = new RecentRows();
  /** Rows inserted by the transaction under way; kept by `recent` once it commits. */
  private inserted: Row[] | null = null;

  constructor(path: string, options: SqliteEventStoreOptions = {}) {
    this.db = openEventsDb(path, options.synchronous);
    this.checkpointer = checkpointerFor(path, options.checkpointThread);
    this.pollIntervalMs = options.pollIntervalMs ?? 250;
    this.coalesceMs = options.coalesceMs ?? 2;
    this.emitter.setMaxListeners(0);
    this.stmts = prepareEventStatements(this.db);
    this.appendTx = this.db.transaction((streamId, events, expected) => {
      const revisions = new Map<string, number>();
      const result = this.appendInTx(streamId, events, expected, revisions);
      this.flushRevisions(revisions);
      return result;
    });
    this.appendManyTx = this.db.transaction((writes: StreamWrite[]) => {
      // Every check of a write runs before its first insert, so a refused write has written nothing and needs no
      // savepoint. Stream revisions are kept in memory for the call and written once per stream at the end.
      const revisions = new Map<string, number>();
      const outcomes = writes.map((w): StreamWriteOutcome => {
        try {
          return { ok: true, result: this.appendInTx(w.streamId, w.events, w.expected, revisions) };
        } catch (error) {
          if (!(
            error instanceof WrongExpectedVersionError ||
            error instanceof ConflictError ||
            error instanceof ValidationError
          ))
            throw error;
          return { ok: false, error: error as Error };
        }
      });
      this.flushRevisions(revisions);
      return outcomes;
    });
    this.appendOnceTx = this.db.transaction((writes: OnceWrite[], options: AppendOnceOptions) => {
      const revisions = new Map<string, number>();
      const outcomes = writes.map((w) => this.appendOnceInTx(w, options, revisions));
      this.flushRevisions(revisions);
      return outcomes;
    });
  }

  async append(streamId: string, events: EventToAppend[], expected: ExpectedRevision): Promise<AppendResult> {
    this.assertOpen();
    // BEGIN IMMEDIATE: take the write lock before reading the stream's revision, so a second process writing the
    // same file (API and worker in worker mode) waits on busy_timeout instead of failing with "database is locked".
    const result = this.committing(() => this.appendTx.immediate(streamId, events, expected));
    this.emitter.emit('appended');
    return result;
  }

  async appendMany(writes: StreamWrite[]): Promise<StreamWriteOutcome[]> {
    this.assertOpen();
    const outcomes = this.committing(() => this.appendManyTx.immediate(writes));
    if (outcomes.some((o) => o.ok)) this.emitter.emit('appended');
    return outcomes;
  }

  async appendOnce(writes: OnceWrite[], options: AppendOnceOptions = {}): Promise<OnceOutcome[]> {
    this.assertOpen();
    if (writes.length === 0) return [];
    const outcomes = this.committing(() => this.appendOnceTx.immediate(writes, options));
    if (outcomes.some((o) => o.status === 'recorded')) this.emitter.emit('appended');
    return outcomes;
  }

  /**
   * One write of appendOnce: the key's stored record (from the key table, or a former record, which then gets its
   * key row), or else the event appended to its stream and its key noted, in the caller's transaction.
   */
  private appendOnceInTx(
    w: OnceWrite,
    options: AppendOnceOptions,
    revisions: Map<string, number>,
  ): OnceOutcome {
    if (!w.streamId || w.streamId.startsWith('$'))
      throw new ValidationError(`invalid stream id "${w.streamId}"`);
    const key = this.stmts.onceKey.get(w.scope, w.key);
    if (key) return replayOutcome(toRecorded(this.stmts.byPosition.get(key.position)!), w.event, options);
    const former = this.formerRecord(w);
    if (former) {
      this.stmts.insertOnceKey.run(w.scope, w.key, former[0]);
      return replayOutcome(toRecorded(former), w.event, options);
    }
    const current = revisions.get(w.streamId) ?? this.stmts.streamRevision.get(w.streamId)?.revision ?? -1;
    let result: AppendResult;
    try {
      result = this.insertAll(w.streamId, current, [w.event], revisions);
    } catch (err) {
      if ((err as { code?: string }).code !== 'SQLITE_CONSTRAINT_UNIQUE') throw err;
      throw eventIdTaken(w.event.metadata.eventId);
    }
    this.stmts.insertOnceKey.run(w.scope, w.key, Number(result.position));
    return { status: 'recorded', streamId: w.streamId, position: result.position };
  }

  /** The write's former record, if one of its former locations holds it (for the write's scope). */
  private formerRecord(w: OnceWrite): Row | null {
    let row: Row | undefined;
    let looked: string | null = null;
    for (const f of w.formerly ?? []) {
      // An event id is stored once in the whole store: one lookup answers every location naming it.
      if (f.eventId !== looked) row = this.stmts.rowByEventId.get((looked = f.eventId));
      if (row && row[1] === f.streamId && toRecorded(row).metadata.orgId === w.scope) return row;
    }
    return null;
  }

  /**
   * Runs a write transaction and hands the rows it inserted to `recent` once it has committed (collected only while
   * someone reads near the tail: an API that appends for a worker to read builds none).
   */
  private committing<T>(transaction: () => T): T {
    this.inserted = this.recent.wanted() ? [] : null;
    try {
      const result = transaction();
      this.recent.add(this.inserted);
      return result;
    } finally {
      this.inserted = null;
    }
  }

  /**
   * Checks a write (stream id, expected revision, idempotent replay, event ids free), then inserts its events. Throws
   * before the first insert when the write is refused. `revisions` holds the revisions written in this transaction.
   */
  private appendInTx(
    streamId: string,
    events: EventToAppend[],
    expected: ExpectedRevision,
    revisions: Map<string, number>,
  ): AppendResult {
    if (!streamId || streamId.startsWith('$')) throw new ValidationError(`invalid stream id "${streamId}"`);
    if (events.length === 0) throw new ValidationError('an append needs at least one event');
    const current = revisions.get(streamId) ?? this.stmts.streamRevision.get(streamId)?.revision ?? -1;
    const fits =
      expected === 'any' ||
      (expected === 'no_stream' && current === -1) ||
      (expected === 'stream_exists' && current !== -1) ||
      (typeof expected === 'bigint' && BigInt(current) === expected);

    // One event that fits: insert first (one statement is atomic on its own), and look for an earlier copy only when
    // the unique event id index refuses it. Saves a lookup in that index per event on the hot path (usage ingest).
    if (events.length === 1 && fits) {
      try {
        return this.insertAll(streamId, current, events, revisions);
      } catch (err) {
        if ((err as { code?: string }).code !== 'SQLITE_CONSTRAINT_UNIQUE') throw err;
        const replay = this.idempotentReplay(streamId, events);
        if (replay) return replay;
        throw eventIdTaken(events[0].metadata.eventId);
      }
    }

    const replay = this.idempotentReplay(streamId, events);
    if (replay) return replay;

    if (!fits) {
      throw new WrongExpectedVersionError(
        streamId,
        typeof expected === 'bigint' ? expected.toString() : expected,
        current === -1 ? 'no_stream' : String(current),
      );
    }
    // The first event id is free (no replay); the others must be free too, and distinct.
    const seen = new Set([events[0].metadata.eventId]);
    for (let i = 1; i < events.length; i++) {
      const id = events[i].metadata.eventId;
      if (seen.has(id) || this.stmts.byEventId.get(id) !== undefined) throw eventIdTaken(id);
      seen.add(id);
    }
    return this.insertAll(streamId, current, events, revisions);
  }

  /** Inserts the events after revision `current` of the stream and notes the stream's new revision. */
  private insertAll(
    streamId: string,
    current: number,
    events: EventToAppend[],
    revisions: Map<string, number>,
  ): AppendResult {
    let revision = current;
    let position = 0;
    for (const e of events) {
      revision++;
      const data = JSON.stringify(e.data);
      const metadata = JSON.stringify(e.metadata);
      position = Number(
        this.stmts.insert.run(streamId, revision, e.metadata.eventId, e.type, data, metadata).lastInsertRowid,
      );
      this.inserted?.push([position, streamId, revision, e.type, data, metadata]);
    }
    revisions.set(streamId, revision);
    return { nextRevision: BigInt(revision), position: BigInt(position) };
  }

  private flushRevisions(revisions: Map<string, number>): void {
    for (const [streamId, revision] of revisions) this.stmts.upsertStream.run(streamId, revision);
  }

  /** The same events appended again to the same stream: answer the original result, write nothing. */
  private idempotentReplay(streamId: string, events: EventToAppend[]): AppendResult | null {
    const first = this.stmts.byEventId.get(events[0].metadata.eventId);
    if (!first) return null;
    let last = first;
    for (let i = 0; i < events.length; i++) {
      const found = i === 0 ? first : this.stmts.byEventId.get(events[i].metadata.eventId);
      if (!found || found.stream_id !== streamId || found.revision !== first.revision + i) {
        throw new ConflictError(
          `events ${events.map((e) => e.metadata.eventId).join(', ')} only partly match an earlier append to ${streamId}`,
          [{ field: 'eventId', problem: 'partial duplicate' }],
        );
      }
      last = found;
    }
    return { nextRevision: BigInt(last.revision), position: BigInt(last.position), duplicate: true };
  }

  async readStream(
    streamId: string,
    options: { fromRevision?: bigint; maxCount?: number } = {},
  ): Promise<RecordedEvent[]> {
    this.assertOpen();
    const rows = this.stmts.readStream.all(
      streamId,
      Number(options.fromRevision ?? 0n),
      options.maxCount ?? Number.MAX_SAFE_INTEGER,
    );
    return rows.map(toRecorded);
  }

  async streamRevisions(streamIds: string[]): Promise<Map<string, bigint>> {
    this.assertOpen();
    const out = new Map<string, bigint>();
    if (streamIds.length === 0) return out;
    for (const [id, revision] of this.stmts.revisions.all(JSON.stringify(streamIds)))
      out.set(id, BigInt(revision));
    return out;
  }

  async readAll(options: ReadAllOptions = {}): Promise<AllBatch> {
    this.assertOpen();
    return this.readAllSync(options);
  }

  private readAllSync(options: ReadAllOptions): AllBatch {
    const after = Number(options.after ?? -1n);
    const max = options.maxCount ?? 1000;
    if (max < 1) return { events: [], checkpoint: BigInt(after) };
    if (this.recent.covers(after)) {
      // Everything after `after` may be rows this store appended itself: if nobody else wrote since its last append
      // (the head is still that append's last position), they are read from memory, filtered as SQL would.
      const head = this.stmts.head.get()?.p ?? -1;
      const batch = this.recent.read(after, head, max, options.filter);
      if (batch) return { events: batch.rows.map(toRecorded), checkpoint: BigInt(batch.checkpoint) };
    }
    if (!hasFilter(options.filter)) {
      const rows = this.stmts.readAll.all(after, max);
      const checkpoint = rows.length ? rows[rows.length - 1][0] : after;
      return { events: rows.map(toRecorded), checkpoint: BigInt(checkpoint) };
    }
    // Filtered: scan up to the head as of now, so the checkpoint can move past filtered-out events.
    const head = this.stmts.head.get()?.p ?? -1;
    const stmt = filteredRead(this.db, this.filteredReads, options.filter!);
    const rows = stmt.all(after, head, ...filterParams(options.filter!), max) as Row[];
    const checkpoint = rows.length === max ? rows[rows.length - 1][0] : Math.max(head, after);
    return { events: rows.map(toRecorded), checkpoint: BigInt(checkpoint) };
  }

  subscribeToAll(options: SubscribeOptions, handler: (batch: AllBatch) => Promise<void>): Subscription {
    return pollingSubscription(
      {
        emitter: this.emitter,
        read: (o) => this.readAllSync(o),
        closed: () => this.closed,
        coalesceMs: this.coalesceMs,
        pollIntervalMs: this.pollIntervalMs,
      },
      options,
      handler,
    );
  }

  async headPosition(): Promise<bigint> {
    this.assertOpen();
    return BigInt(this.stmts.head.get()?.p ?? -1);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.emitter.emit('appended');
    await this.checkpointer?.stop();
    this.db.close();
  }

  private assertOpen(): void {
    if (this.closed) throw new Error('event store is closed');
  }
}
