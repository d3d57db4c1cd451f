import { EventEmitter } from 'node:events';
import { RecordedEvent } from './events';
import { AllBatch, EventFilter, EventStore, Subscription } from './event-store.port';
import { CollectionSpec, ReadStore } from './read-store.port';
import { padPosition } from './position';
import { EventRegistry } from './registry';
import { CheckpointStore, ProjectionFailure, describeFailure } from './checkpoints';

export * from './checkpoints';

/**
 * A projection turns events into read models. It is delivered events at least once, in position order,
 * so every update it makes must be idempotent: guard it with the event's position (see positionGuard).
 */
export interface Projection {
  readonly name: string;
  /** Only these events are delivered. */
  readonly filter?: EventFilter;
  /** Collections it owns: created at start, dropped on rebuild. */
  readonly collections: CollectionSpec[];
  handle(events: RecordedEvent[], store: ReadStore): Promise<void>;
  /**
   * Forget any in-memory state (caches of what it wrote); called when the projection is rebuilt from zero, and
   * before a failed batch is delivered again (what it had cached may be ahead of what reached the read store).
   */
  reset?(): void;
}

/** `_pos` guard for idempotent updates: apply only if the document has not seen this position yet. */
export function positionGuard(position: bigint): { _pos: { $lt: string } } {
  return { _pos: { $lt: padPosition(position) } };
}

export interface ProjectionStatus {
  name: string;
  /** Last position handled (-1 before the first). */
  checkpoint: string;
  state: 'starting' | 'running' | 'stopped' | 'failed' | 'rebuilding';
  lastEventAt: string | null;
  error?: string;
  /** Set while the projection is failed (it is retried meanwhile); cleared once it handles the event. */
  failure?: ProjectionFailure;
}

/** A failed handler's error with the batch it failed on (and the event, when it is known). */
class BatchError extends Error {
  constructor(
    override readonly cause: unknown,
    readonly events: RecordedEvent[],
    readonly event: RecordedEvent | null,
  ) {
    super(cause instanceof Error ? cause.message : String(cause));
  }
}

export interface Logger {
  debug?(obj: object, msg?: string): void;
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
  error(obj: object, msg?: string): void;
}

interface Running {
  projection: Projection;
  checkpoint: bigint;
  state: ProjectionStatus['state'];
  lastEventAt: string | null;
  error?: string;
  /** Set while failed, kept over the restarts until the projection handles the event it failed on. */
  failure?: ProjectionFailure;
  subscription?: Subscription;
  /** Consecutive failures (backoff); reset once a batch is handled. */
  failures: number;
  retry?: NodeJS.Timeout;
  /** When the checkpoint was last saved, and the pending save of an in-memory advance. */
  savedAt: number;
  saveTimer?: NodeJS.Timeout;
}

const CHECKPOINT_SAVE_MS = 250;
/** Batches from this size on count as sustained load (see accumulateMs). */
const ACCUMULATE_FROM = 500;

export interface RunnerOptions {
  /**
   * Largest live batch (default 1,000). A caught-up projection gets small batches anyway; one that fell behind
   * catches up in batches of this size. Large ones cost far less per event (random-key index pages are written once
   * per batch rather than once per event) but block the event loop longer: the worker uses 10,000.
   */
  batchSize?: number;
  /** How long a projection under load waits after a batch so the next one is larger (default 25 ms; 0: never). */
  accumulateMs?: number;
  /** Batch read while rebuilding (default 20,000: fewer, larger read-model writes). */
  rebuildBatchSize?: number;
}

/**
 * Runs projections from the event store into the read store: one subscription and one checkpoint per
 * projection, resume after restart from the checkpoint, rebuild from zero on demand.
 */
export class ProjectionRunner {
  private readonly running = new Map<string, Running>();
  private readonly emitter = new EventEmitter();
  readonly checkpoints: CheckpointStore;

  constructor(
    private readonly events: EventStore,
    private readonly store: ReadStore,
    private readonly registry: EventRegistry,
    private readonly projections: Projection[],
    private readonly logger: Logger,
    private readonly options: RunnerOptions = {},
  ) {
    this.checkpoints = new CheckpointStore(store);
    this.emitter.setMaxListeners(0);
    const names = new Set<string>();
    for (const p of projections) {
      if (names.has(p.name)) throw new Error(`duplicate projection ${p.name}`);
      names.add(p.name);
    }
  }

  names(): string[] {
    return this.projections.map((p) => p.name);
  }

  async prepare(): Promise<void> {
    await this.checkpoints.init();
    for (const p of this.projections) for (const c of p.collections) await this.store.ensureCollection(c);
  }

  /** Starts every projection, or only those named (the others run in another process). */
  async start(only?: readonly string[]): Promise<void> {
    const unknown = (only ?? []).filter((n) => !this.projections.some((p) => p.name === n));
    if (unknown.length)
      throw new Error(`unknown projection(s) ${unknown.join(', ')}; known: ${this.names().join(', ')}`);
    await this.prepare();
    for (const p of this.projections) if (!only || only.includes(p.name)) await this.startOne(p);
  }

  private async startOne(projection: Projection, failures = 0, failure?: ProjectionFailure): Promise<void> {
    // A failure saved by an earlier run stays reported until the projection gets past it (and then is cleared).
    const { position: checkpoint, failure: saved } = await this.checkpoints.read(projection.name);
    failure ??= saved ?? undefined;
    const run: Running = {
      projection,
      checkpoint,
      state: failure ? 'failed' : 'running',
      lastEventAt: null,
      failures,
      failure,
      savedAt: 0,
    };
    this.running.set(projection.name, run);
    run.subscription = this.events.subscribeToAll(
      { after: checkpoint, filter: projection.filter, batchSize: this.options.batchSize ?? 1_000 },
      (batch) => this.apply(run, batch),
    );
    run.subscription.done.then(
      () => undefined,
      (err: Error) => this.failed(run, err),
    );
    // One line each at debug; the host says once at info which projections run (from where).
    (this.logger.debug ?? this.logger.info).call(
      this.logger,
      { projection: projection.name, checkpoint: checkpoint.toString() },
      'projection started',
    );
  }

  /**
   * A handler failed (a bug, or an engine down). The projection is marked failed (/health answers 503 and names the
   * event, its position and the error; so does the log) and restarted from its last checkpoint after a backoff
   * (0.5 s doubling to 30 s), so a transient outage heals by itself and nothing is skipped: the failed batch is
   * delivered again, one event at a time if it fails again, so the failure names the one event it stops at. It stays
   * failed until that event is handled. The failure is saved next to the checkpoint for other processes' waiters.
   */
  private failed(run: Running, err: Error): void {
    if (this.running.get(run.projection.name) !== run || run.state === 'stopped') return;
    const failure = this.failureOf(run, err);
    run.state = 'failed';
    run.error = err.message;
    run.failure = failure;
    const delay = Math.min(30_000, 500 * 2 ** Math.min(run.failures, 6));
    this.logger.error(
      {
        projection: run.projection.name,
        err: err.message,
        event: failure.event,
        position: failure.position,
        batch: failure.batch,
        attempts: failure.attempts,
        retryInMs: delay,
      },
      `${describeFailure(failure)}; restarting from its checkpoint`,
    );
    this.checkpoints
      .fail(run.projection.name, failure)
      .catch((e: Error) =>
        this.logger.warn(
          { projection: run.projection.name, err: e.message },
          'could not record the projection failure',
        ),
      );
    run.retry = setTimeout(() => {
      if (this.running.get(run.projection.name) !== run || run.state !== 'failed') return;
      this.startOne(run.projection, run.failures + 1, run.failure).catch((e: Error) => this.failed(run, e));
    }, delay);
    run.retry.unref();
  }

  private failureOf(run: Running, err: Error): ProjectionFailure {
    const events = err instanceof BatchError ? err.events : [];
    const event = err instanceof BatchError ? err.event : null;
    const position = (event ?? events[0])?.position ?? run.checkpoint + 1n;
    const previous = run.failure;
    const same = previous && previous.position === position.toString() && previous.error === err.message;
    return {
      projection: run.projection.name,
      error: err.message,
      event: event
        ? {
            type: event.type,
            eventId: event.metadata.eventId,
            streamId: event.streamId,
            position: event.position.toString(),
          }
        : null,
      position: position.toString(),
      batch: events.length
        ? {
            from: events[0].position.toString(),
            to: events[events.length - 1].position.toString(),
            events: events.length,
          }
        : null,
      since: same ? previous.since : new Date().toISOString(),
      attempts: previous ? previous.attempts + 1 : 1,
    };
  }

  /** Hands a batch to the projection; a batch that fails again after a failure is retried one event at a time. */
  private async handle(run: Running, events: RecordedEvent[]): Promise<void> {
    try {
      await run.projection.handle(events, this.store);
      return;
    } catch (err) {
      if (events.length === 1 || !run.failure)
        throw new BatchError(err, events, events.length === 1 ? events[0] : null);
    }
    run.projection.reset?.();
    for (const e of events) {
      try {
        await run.projection.handle([e], this.store);
      } catch (err) {
        throw new BatchError(err, events, e);
      }
      if (e.position > run.checkpoint) {
        run.checkpoint = e.position;
        run.lastEventAt = e.metadata.occurredAt;
        await this.save(run);
      }
    }
  }

  /** A failed projection handled what it had failed on: running again. */
  private async recovered(run: Running): Promise<void> {
    const failure = run.failure!;
    run.failure = undefined;
    run.error = undefined;
    if (run.state === 'failed') run.state = 'running';
    this.logger.info(
      { projection: run.projection.name, position: failure.position, attempts: failure.attempts },
      `projection ${run.projection.name} recovered past position ${failure.position}`,
    );
    await this.checkpoints
      .clearFailure(run.projection.name)
      .catch((e: Error) =>
        this.logger.warn({ projection: run.projection.name, err: e.message }, 'could not clear the failure'),
      );
  }

  private async apply(run: Running, batch: AllBatch): Promise<void> {
    if (batch.events.length) {
      if (run.failure) run.projection.reset?.();
      await this.handle(
        run,
        batch.events.map((e) => this.registry.upcast(e)),
      );
      run.lastEventAt = batch.events[batch.events.length - 1].metadata.occurredAt;
    }
    run.failures = 0;
    if (run.failure && batch.checkpoint >= BigInt(run.failure.position)) await this.recovered(run);
    if (batch.checkpoint <= run.checkpoint) return;
    run.checkpoint = batch.checkpoint;
    // A batch that changed nothing (only filtered-out events) moves the checkpoint in memory; it is saved at most
    // four times a second, so busy stores do not pay a write per append per projection. Handled events save it at once.
    if (batch.events.length || Date.now() - run.savedAt >= CHECKPOINT_SAVE_MS) await this.save(run);
    else this.scheduleSave(run);
    this.emitter.emit('advanced');
    // Under sustained load (a sizeable batch that did not fill the limit), pause a moment before reading on, so the
    // next batch is larger: per-event cost falls steeply with batch size (each touched document is written once per
    // batch). A lone command's batch is small and is never delayed.
    const n = batch.events.length;
    const accumulateMs = this.options.accumulateMs ?? 25;
    if (accumulateMs > 0 && n >= ACCUMULATE_FROM && n < (this.options.batchSize ?? 1_000))
      await new Promise((r) => setTimeout(r, accumulateMs));
  }

  private async save(run: Running): Promise<void> {
    if (run.saveTimer) {
      clearTimeout(run.saveTimer);
      run.saveTimer = undefined;
    }
    const position = run.checkpoint;
    await this.checkpoints.advance(run.projection.name, position);
    run.savedAt = Date.now();
  }

  private scheduleSave(run: Running): void {
    if (run.saveTimer) return;
    run.saveTimer = setTimeout(() => {
      run.saveTimer = undefined;
      this.save(run).catch((err: Error) =>
        this.logger.warn(
          { projection: run.projection.name, err: err.message },
          'checkpoint save failed; will retry',
        ),
      );
    }, CHECKPOINT_SAVE_MS);
    run.saveTimer.unref();
  }

  async stop(): Promise<void> {
    for (const run of this.running.values()) {
      if (run.retry) clearTimeout(run.retry);
      run.state = 'stopped';
      await run.subscription?.stop();
      if (run.saveTimer) await this.save(run).catch(() => undefined);
    }
  }

  status(): ProjectionStatus[] {
    return this.projections.map((p) => {
      const run = this.running.get(p.name);
      return {
        name: p.name,
        checkpoint: (run?.checkpoint ?? -1n).toString(),
        state: run?.state ?? 'stopped',
        lastEventAt: run?.lastEventAt ?? null,
        ...(run?.error ? { error: run.error } : {}),
        ...(run?.failure ? { failure: run.failure } : {}),
      };
    });
  }

  isLocal(name: string): boolean {
    const run = this.running.get(name);
    return !!run && (run.state === 'running' || run.state === 'rebuilding');
  }

  localCheckpoint(name: string): bigint | undefined {
    return this.running.get(name)?.checkpoint;
  }

  /** Whether this runner runs that projection (in any state but stopped), so its own status is authoritative. */
  runs(name: string): boolean {
    const run = this.running.get(name);
    return !!run && run.state !== 'stopped';
  }

  /** The failure of a projection this runner runs, while it is failed. */
  localFailure(name: string): ProjectionFailure | undefined {
    return this.running.get(name)?.failure;
  }

  onAdvance(listener: () => void): () => void {
    this.emitter.on('advanced', listener);
    return () => this.emitter.off('advanced', listener);
  }

  /**
   * Rebuilds one projection from zero: stops it, drops its collections, resets its checkpoint, replays all
   * events, then leaves it running live. Reports progress as it goes.
   */
  async rebuild(
    name: string,
    onProgress?: (p: { handled: number; position: bigint; head: bigint }) => void,
  ): Promise<{ handled: number; elapsedMs: number }> {
    const projection = this.projections.find((p) => p.name === name);
    if (!projection) throw new Error(`unknown projection ${name}; known: ${this.names().join(', ')}`);
    const previous = this.running.get(name);
    if (previous?.retry) clearTimeout(previous.retry);
    if (previous) previous.state = 'stopped';
    await previous?.subscription?.stop();
    const run: Running = {
      projection,
      checkpoint: -1n,
      state: 'rebuilding',
      lastEventAt: null,
      failures: 0,
      savedAt: 0,
    };
    this.running.set(name, run);
    for (const c of projection.collections) await this.store.dropCollection(c.name);
    projection.reset?.();
    await this.checkpoints.reset(name);
    for (const c of projection.collections) await this.store.ensureCollection(c);
    const started = Date.now();
    const head = await this.events.headPosition();
    let handled = 0;
    for (;;) {
      const batch = await this.events.readAll({
        after: run.checkpoint,
        filter: projection.filter,
        maxCount: this.options.rebuildBatchSize ?? 20_000,
      });
      if (batch.checkpoint <= run.checkpoint) break;
      await this.apply(run, batch);
      handled += batch.events.length;
      onProgress?.({ handled, position: run.checkpoint, head });
      if (batch.checkpoint >= head) break;
    }
    const elapsedMs = Date.now() - started;
    if (previous) await this.startOne(projection);
    return { handled, elapsedMs };
  }
}
