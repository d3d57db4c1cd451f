import Database from 'better-sqlite3';
import { tuneForWrites } from './pragmas';
import { SqliteCheckpointer, checkpointerFor } from './checkpointer';
import { EventEmitter } from 'node:events';
import {
  AllBatch,
  AppendResult,
  ConflictError,
  EventFilter,
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

/** position, stream_id, revision, type, data, metadata (rows read as arrays: cheaper than objects). */
type Row = [number, string, number, string, string, string];

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
  private readonly stmts: ReturnType<SqliteEventStore['prepare']>;
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
    this.db = new Database(path);
    this.db.pragma('journal_mode = WAL');
    this.db.pragma(`synchronous = ${options.synchronous === 'FULL' ? 'FULL' : 'NORMAL'}`);
    this.db.pragma('busy_timeout = 5000');
    tuneForWrites(this.db);
    this.db.exec(`
      CREATE TABLE IF NOT EXISTS events (
        position  INTEGER PRIMARY KEY,
        stream_id TEXT NOT NULL,
        revision  INTEGER NOT NULL,
        event_id  TEXT NOT NULL,
        type      TEXT NOT NULL,
        data      TEXT NOT NULL,
        metadata  TEXT NOT NULL
      );
      CREATE UNIQUE INDEX IF NOT EXISTS events_stream_revision ON events(stream_id, revision);
      CREATE UNIQUE INDEX IF NOT EXISTS events_event_id ON events(event_id);
      CREATE TABLE IF NOT EXISTS streams (
        stream_id TEXT PRIMARY KEY,
        revision  INTEGER NOT NULL
      ) WITHOUT ROWID;
      -- appendOnce: the record of each (scope, key), by its position in events.
      CREATE TABLE IF NOT EXISTS once_keys (
        scope    TEXT NOT NULL,
        key      TEXT NOT NULL,
        position INTEGER NOT NULL,
        PRIMARY KEY (scope, key)
      ) WITHOUT ROWID;
    `);
    this.checkpointer = checkpointerFor(path, options.checkpointThread);
    this.pollIntervalMs = options.pollIntervalMs ?? 250;
    this.coalesceMs = options.coalesceMs ?? 2;
    this.emitter.setMaxListeners(0);
    this.stmts = this.prepare();
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

  private prepare() {
    return {
      streamRevision: this.db.prepare<[string], { revision: number }>(
        'SELECT revision FROM streams WHERE stream_id = ?',
      ),
      upsertStream: this.db.prepare(
        'INSERT INTO streams(stream_id, revision) VALUES (?, ?) ON CONFLICT(stream_id) DO UPDATE SET revision = excluded.revision',
      ),
      insert: this.db.prepare(
        'INSERT INTO events(stream_id, revision, event_id, type, data, metadata) VALUES (?, ?, ?, ?, ?, ?)',
      ),
      onceKey: this.db.prepare<[string, string], { position: number }>(
        'SELECT position FROM once_keys WHERE scope = ? AND key = ?',
      ),
      insertOnceKey: this.db.prepare('INSERT INTO once_keys(scope, key, position) VALUES (?, ?, ?)'),
      byPosition: this.db
        .prepare<[number], Row>(
          'SELECT position, stream_id, revision, type, data, metadata FROM events WHERE position = ?',
        )
        .raw(true),
      rowByEventId: this.db
        .prepare<[string], Row>(
          'SELECT position, stream_id, revision, type, data, metadata FROM events WHERE event_id = ?',
        )
        .raw(true),
      byEventId: this.db.prepare<[string], { position: number; stream_id: string; revision: number }>(
        'SELECT position, stream_id, revision FROM events WHERE event_id = ?',
      ),
      readStream: this.db
        .prepare<[string, number, number], Row>(
          'SELECT position, stream_id, revision, type, data, metadata FROM events WHERE stream_id = ? AND revision >= ? ORDER BY revision LIMIT ?',
        )
        .raw(true),
      readAll: this.db
        .prepare<[number, number], Row>(
          'SELECT position, stream_id, revision, type, data, metadata FROM events WHERE position > ? ORDER BY position LIMIT ?',
        )
        .raw(true),
      head: this.db.prepare<[], { p: number | null }>('SELECT MAX(position) AS p FROM events'),
      revisions: this.db
        .prepare<[string], [string, number]>(
          'SELECT stream_id, revision FROM streams WHERE stream_id IN (SELECT value FROM json_each(?))',
        )
        .raw(true),
    };
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
    const stmt = this.filteredRead(options.filter!);
    const rows = stmt.all(after, head, ...filterParams(options.filter!), max) as Row[];
    const checkpoint = rows.length === max ? rows[rows.length - 1][0] : Math.max(head, after);
    return { events: rows.map(toRecorded), checkpoint: BigInt(checkpoint) };
  }

  private filteredRead(filter: EventFilter): Database.Statement {
    const key = `${filter.eventTypes?.length ?? 0}:${filter.streamPrefixes?.length ?? 0}`;
    let stmt = this.filteredReads.get(key);
    if (!stmt) {
      const ors: string[] = [];
      const ands: string[] = [];
      if (filter.eventTypes?.length) ands.push(`type IN (${filter.eventTypes.map(() => '?').join(',')})`);
      for (let i = 0; i < (filter.streamPrefixes?.length ?? 0); i++) ors.push('substr(stream_id, 1, ?) = ?');
      if (ors.length) ands.push(`(${ors.join(' OR ')})`);
      stmt = this.db
        .prepare(
          `SELECT position, stream_id, revision, type, data, metadata FROM events
         WHERE position > ? AND position <= ? AND ${ands.join(' AND ')} ORDER BY position LIMIT ?`,
        )
        .raw(true);
      this.filteredReads.set(key, stmt);
    }
    return stmt;
  }

  subscribeToAll(options: SubscribeOptions, handler: (batch: AllBatch) => Promise<void>): Subscription {
    let stopped = false;
    let wake: (() => void) | null = null;
    // Appends in quick succession (quota checks append several times each) wake a caught-up subscription once per
    // coalescing window rather than once per append, so N subscriptions do not each re-read the store per append.
    let pending: NodeJS.Timeout | null = null;
    const onAppend = () => {
      if (pending || !wake) return;
      pending = setTimeout(() => {
        pending = null;
        wake?.();
      }, this.coalesceMs);
    };
    this.emitter.on('appended', onAppend);
    let after = options.after ?? -1n;
    // Appends by another process (API and worker on one file) are only seen by polling. Right after events came,
    // more are likely: poll again soon (2 ms, doubling while nothing comes) up to pollIntervalMs when idle.
    let idlePolls = 0;
    const loop = async () => {
      try {
        while (!stopped && !this.closed) {
          const batch = this.readAllSync({
            after,
            filter: options.filter,
            maxCount: options.batchSize ?? 1000,
          });
          if (batch.checkpoint > after) {
            await handler(batch);
            after = batch.checkpoint;
            idlePolls = 0;
            continue;
          }
          const wait = Math.min(this.pollIntervalMs, 2 * 2 ** idlePolls++);
          await new Promise<void>((resolve) => {
            const timer = setTimeout(done, wait);
            wake = done;
            function done() {
              clearTimeout(timer);
              resolve();
            }
          });
          wake = null;
        }
      } finally {
        this.emitter.off('appended', onAppend);
        if (pending) clearTimeout(pending);
      }
    };
    const done = new Promise<void>((resolve) => setImmediate(resolve)).then(loop);
    done.catch(() => undefined);
    return {
      done,
      stop: async () => {
        stopped = true;
        wake?.();
        await done.catch(() => undefined);
      },
    };
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

/**
 * The last rows this store appended (at most RECENT_ROWS, consecutive positions), as the events table holds them.
 * In one process, the readers of the store's tail (every in-process projection's subscription, and the command
 * executor's catch-up before each quota check batch) all read the same few rows right after each append: with this,
 * one SQL read of the head replaces one range scan per reader. Another process's append shows as a head beyond the
 * last row kept; then readers go back to SQL until this store appends right after the head again.
 *
 * Rows are only kept while someone reads near the tail (within TAIL_READ_TTL_MS): an API process whose projections
 * run in a worker keeps none, instead of promoting every appended row into its old generation for nothing.
 */
const RECENT_ROWS = 2_048;
const TAIL_READ_TTL_MS = 1_000;

class RecentRows {
  private rows: Row[] = [];
  private tailReadAt = -Infinity;

  /** Whether anyone read near the tail lately, so that rows appended now are worth keeping. */
  wanted(): boolean {
    return Date.now() - this.tailReadAt <= TAIL_READ_TTL_MS;
  }

  /** Rows just committed, in position order (consecutive within one transaction); null when none were collected. */
  add(rows: Row[] | null): void {
    if (rows === null) {
      this.rows = [];
      return;
    }
    if (rows.length === 0) return;
    const last = this.rows.length ? this.rows[this.rows.length - 1][0] : null;
    if (last === null || rows[0][0] !== last + 1) this.rows = rows.slice(-RECENT_ROWS);
    else {
      for (const r of rows) this.rows.push(r);
      if (this.rows.length > 2 * RECENT_ROWS) this.rows = this.rows.slice(-RECENT_ROWS);
    }
  }

  /** Whether a read after `after` starts within the rows kept (and notes a read near the tail). */
  covers(after: number): boolean {
    if (this.rows.length === 0) {
      this.tailReadAt = Date.now();
      return false;
    }
    const covered = after >= this.rows[0][0] - 1;
    if (covered) this.tailReadAt = Date.now();
    return covered;
  }

  /**
   * The batch readAll answers after `after` when every row up to `head` is kept (else null): up to `max` rows that
   * pass the filter, and the checkpoint SQL would give (the last row returned when the batch is full, else the head).
   */
  read(
    after: number,
    head: number,
    max: number,
    filter?: EventFilter,
  ): { rows: Row[]; checkpoint: number } | null {
    const first = this.rows[0][0];
    const last = this.rows[this.rows.length - 1][0];
    if (head !== last || after < first - 1) return null;
    const filtered = hasFilter(filter);
    const types = filter?.eventTypes?.length ? filter.eventTypes : null;
    const prefixes = filter?.streamPrefixes?.length ? filter.streamPrefixes : null;
    const out: Row[] = [];
    for (let i = Math.max(0, after - first + 1); i < this.rows.length && out.length < max; i++) {
      const r = this.rows[i];
      if (types && !types.includes(r[3])) continue;
      if (prefixes && !prefixes.some((p) => r[1].startsWith(p))) continue;
      out.push(r);
    }
    const full = out.length === max;
    const checkpoint = full
      ? out[out.length - 1][0]
      : filtered
        ? Math.max(head, after)
        : out.length
          ? last
          : after;
    return { rows: out, checkpoint };
  }
}

function hasFilter(filter?: EventFilter): boolean {
  return !!filter && (!!filter.eventTypes?.length || !!filter.streamPrefixes?.length);
}

function filterParams(filter: EventFilter): unknown[] {
  const params: unknown[] = [...(filter.eventTypes ?? [])];
  for (const p of filter.streamPrefixes ?? []) params.push(p.length, p);
  return params;
}

function toRecorded(r: Row): RecordedEvent {
  return new StoredEvent(r[1], BigInt(r[2]), BigInt(r[0]), r[3], r[4], r[5]);
}

/**
 * An event as read from the table: its data and metadata are parsed from their JSON on first use, so a reader that
 * skips an event after a look at its metadata (the quota counter, for usage of an org without quotas) never pays for
 * parsing its data, nor for collecting the objects. Both are read-only, as for every recorded event.
 */
class StoredEvent implements RecordedEvent {
  private parsedData: unknown;
  private parsedMetadata: RecordedEvent['metadata'] | undefined;

  constructor(
    readonly streamId: string,
    readonly revision: bigint,
    readonly position: bigint,
    readonly type: string,
    private readonly rawData: string,
    private readonly rawMetadata: string,
  ) {}

  get data(): unknown {
    return this.parsedData === undefined ? (this.parsedData = JSON.parse(this.rawData)) : this.parsedData;
  }

  get metadata(): RecordedEvent['metadata'] {
    return (this.parsedMetadata ??= JSON.parse(this.rawMetadata) as RecordedEvent['metadata']);
  }

  /** The event as a plain object, for JSON.stringify (data and metadata are accessors, not own properties). */
  toJSON(): RecordedEvent {
    const { streamId, revision, position, type, data, metadata } = this;
    return { streamId, revision, position, type, data, metadata } as RecordedEvent;
  }
}

/** An event id already stored elsewhere (another stream or position), or twice in one write. */
function eventIdTaken(eventId: string): ConflictError {
  return new ConflictError(`event id ${eventId} is already stored in another stream or position`, [
    { field: 'eventId', problem: 'duplicate', eventId },
  ]);
}
