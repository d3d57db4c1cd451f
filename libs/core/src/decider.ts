import { CommandContext, DomainEvent, EventMetadata, EventToAppend, RecordedEvent } from './events';
import { EventStore, ExpectedRevision } from './event-store.port';
import { StaleStateError, WrongExpectedVersionError } from './errors';
import { EventRegistry } from './registry';
import { uuidv7 } from './ids';

/**
 * A pure decider: business rules as plain functions, no I/O. Time, ids and the actor arrive in the command.
 * decide may throw a PurserError (404, 409, 422...) to refuse a command; a refused command appends nothing.
 */
export interface Decider<C, S, E extends DomainEvent> {
  initialState: S;
  decide(command: C, state: S): E[];
  evolve(state: S, event: E): S;
}

export function fold<S, E extends DomainEvent>(
  decider: Pick<Decider<unknown, S, E>, 'initialState' | 'evolve'>,
  events: E[],
): S {
  return events.reduce((s, e) => decider.evolve(s, e), decider.initialState);
}

export interface CommandResult<E extends DomainEvent = DomainEvent> {
  streamId: string;
  events: E[];
  /** Revision of the stream after the command (-1 if the stream still does not exist). */
  revision: bigint;
  /** Global position of the last appended event; the head position when nothing was appended. */
  position: bigint;
}

export interface ExecuteOptions {
  /** The caller's If-Match: a stale revision is a 409, never retried. */
  expectedRevision?: bigint;
  /** How many times a concurrency conflict is retried (reload, decide again, append). Default 3. */
  maxRetries?: number;
  orgId: string | null;
}

interface CacheEntry {
  decider: unknown;
  revision: bigint;
  position: bigint;
  state: unknown;
  /**
   * The catch-up generation from which this entry is known to hold every event of its stream up to the catch-up
   * watermark (see catchUp). An entry read while a catch-up ran, or rolled back after a failed append, has none
   * (-1): recent() reads its tail before trusting it.
   */
  trustedFrom: number;
}

/** How many events one catch-up reads at most before it gives up and distrusts every cached state instead. */
const CATCH_UP_MAX_EVENTS = 20_000;
const CATCH_UP_PAGE = 1_000;

/**
 * Loads the stream, folds evolve, calls decide, appends with the revision read, and retries a bounded number of
 * times on a version conflict. Nothing is appended when decide throws.
 */
export class CommandExecutor {
  /** Folded states by stream, so a command reads only the events appended since (LRU; states are immutable). */
  private readonly cache = new Map<string, CacheEntry>();
  /**
   * catchUp() reads $all after the watermark and folds what it finds into the cached states: afterwards every
   * trusted entry is current up to the new watermark, so recent() needs no read for it. -1n: no catch-up yet.
   */
  private watermark = -1n;
  private started = false;
  /** Bumped by each catch-up; entries trusted from an older generation than `trustFloor` are not trusted. */
  private generation = 0;
  private trustFloor = 0;
  private catchingUp: Promise<void> | null = null;

  constructor(
    private readonly store: EventStore,
    private readonly registry: EventRegistry,
    private readonly cacheSize = 10_000,
  ) {}

  async execute<C, S, E extends DomainEvent>(
    streamId: string,
    decider: Decider<C, S, E>,
    command: C,
    ctx: CommandContext,
    options: ExecuteOptions,
  ): Promise<CommandResult<E>> {
    const maxRetries = options.expectedRevision !== undefined ? 0 : (options.maxRetries ?? 3);
    for (let attempt = 0; ; attempt++) {
      const { state, revision, position } = await this.current(streamId, decider);
      if (options.expectedRevision !== undefined && options.expectedRevision !== revision) {
        throw new WrongExpectedVersionError(
          streamId,
          options.expectedRevision.toString(),
          revision.toString(),
        );
      }
      let events: E[];
      try {
        events = decider.decide(command, state);
      } catch (err) {
        // A state that a concurrent fold superseded (see ReservationBook): decide again on the newest one.
        if (err instanceof StaleStateError && attempt < maxRetries) {
          await new Promise((r) => setImmediate(r));
          continue;
        }
        throw err;
      }
      if (events.length === 0) return { streamId, events, revision, position };
      const expected: ExpectedRevision = revision < 0n ? 'no_stream' : revision;
      try {
        const res = await this.store.append(streamId, this.toAppend(events, ctx, options.orgId), expected);
        return { streamId, events, revision: res.nextRevision, position: res.position };
      } catch (err) {
        if (err instanceof WrongExpectedVersionError && attempt < maxRetries) continue;
        throw err;
      }
    }
  }

  /** The stream's current state: the cached fold plus the events appended since. */
  async current<S, E extends DomainEvent>(
    streamId: string,
    decider: Pick<Decider<unknown, S, E>, 'initialState' | 'evolve'>,
  ): Promise<{ state: S; revision: bigint; position: bigint }> {
    const cached = this.cache.get(streamId);
    let state: S = decider.initialState;
    let revision = -1n;
    let position = -1n;
    if (cached && cached.decider === decider) {
      state = cached.state as S;
      revision = cached.revision;
      position = cached.position;
    }
    const generation = this.generation;
    const newer = await this.store.readStream(streamId, { fromRevision: revision + 1n });
    try {
      for (const r of newer) {
        state = decider.evolve(state, this.registry.upcast(r) as unknown as E);
        revision = r.revision;
        position = r.position;
      }
    } catch (err) {
      // Another fold advanced the cached state while this one read: start over from the newest cache.
      if (err instanceof StaleStateError) return this.current(streamId, decider);
      throw err;
    }
    // Streams that do not exist yet are cached too (revision -1): a catch-up folds their first event.
    // A catch-up that ended while this read was under way may have skipped events this read did not see yet.
    this.store_(streamId, {
      decider,
      revision,
      position,
      state,
      trustedFrom: generation === this.generation ? generation : -1,
    });
    return { state, revision, position };
  }

  /**
   * The stream's state when the caller already knows its revision (EventStore.streamRevisions asks for many streams
   * at once): the cached fold when it is at that revision, without reading; else current().
   */
  async atRevision<S, E extends DomainEvent>(
    streamId: string,
    decider: Pick<Decider<unknown, S, E>, 'initialState' | 'evolve'>,
    revision: bigint,
  ): Promise<{ state: S; revision: bigint; position: bigint }> {
    const cached = this.cache.get(streamId);
    if (cached && cached.decider === decider && cached.revision === revision) {
      this.cache.delete(streamId);
      this.cache.set(streamId, cached);
      return { state: cached.state as S, revision: cached.revision, position: cached.position };
    }
    return this.current(streamId, decider);
  }

  /**
   * The stream's state as of the last catchUp(), without reading when the cache holds it (else like current()).
   * For deciding optimistically: append with the revision returned, and on a version conflict call current().
   */
  async recent<S, E extends DomainEvent>(
    streamId: string,
    decider: Pick<Decider<unknown, S, E>, 'initialState' | 'evolve'>,
  ): Promise<{ state: S; revision: bigint; position: bigint }> {
    const cached = this.cache.get(streamId);
    if (
      this.started &&
      cached &&
      cached.decider === decider &&
      cached.trustedFrom >= this.trustFloor &&
      cached.trustedFrom >= 0
    ) {
      return { state: cached.state as S, revision: cached.revision, position: cached.position };
    }
    return this.current(streamId, decider);
  }

  /**
   * Caches a state the caller folded itself: a state it read (recent/current) plus the events it has just appended
   * with that state's revision. `complete` false (events that did not land were folded and rolled back, say) makes
   * recent() read the stream's tail before trusting it.
   */
  remember<S, E extends DomainEvent>(
    streamId: string,
    decider: Pick<Decider<unknown, S, E>, 'initialState' | 'evolve'>,
    folded: { state: S; revision: bigint; position: bigint },
    complete: boolean,
  ): void {
    const cached = this.cache.get(streamId);
    const trustedFrom =
      complete && cached && cached.decider === decider && cached.trustedFrom >= this.trustFloor
        ? cached.trustedFrom
        : -1;
    this.cache.delete(streamId);
    this.cache.set(streamId, { decider, ...folded, trustedFrom });
    if (this.cache.size > this.cacheSize) this.cache.delete(this.cache.keys().next().value as string);
  }

  /** Drops a cached state: the next read folds the stream from its start. */
  forget(streamId: string): void {
    this.cache.delete(streamId);
  }

  private store_(streamId: string, entry: CacheEntry): void {
    const cached = this.cache.get(streamId);
    // Never replace a newer state with an older one (a slow read finishing after a faster one).
    if (cached && cached.decider === entry.decider && cached.revision > entry.revision) return;
    this.cache.delete(streamId);
    this.cache.set(streamId, entry);
    if (this.cache.size > this.cacheSize) this.cache.delete(this.cache.keys().next().value as string);
  }

  /**
   * Folds every event appended since the last catch-up (read from $all, by any process) into the cached states, so
   * that afterwards recent() answers from the cache without reading. One read of $all replaces one tail read per
   * stream. Concurrent callers share the catch-up under way, then run one more (theirs must start after their call).
   */
  catchUp(): Promise<void> {
    const run = (this.catchingUp ?? Promise.resolve()).catch(() => undefined).then(() => this.catchUpOnce());
    const tracked = run.finally(() => {
      if (this.catchingUp === tracked) this.catchingUp = null;
    });
    this.catchingUp = tracked;
    return tracked;
  }

  private async catchUpOnce(): Promise<void> {
    if (!this.started) {
      // First catch-up: from the head; what was cached before is read again once by recent().
      this.watermark = await this.store.headPosition();
      this.generation++;
      this.trustFloor = this.generation;
      this.started = true;
      return;
    }
    const batches: RecordedEvent[][] = [];
    let after = this.watermark;
    let read = 0;
    for (;;) {
      const batch = await this.store.readAll({ after, maxCount: CATCH_UP_PAGE });
      batches.push(batch.events);
      read += batch.events.length;
      after = batch.checkpoint;
      if (batch.events.length < CATCH_UP_PAGE) break;
      if (read >= CATCH_UP_MAX_EVENTS) {
        // Too far behind (idle for long): distrust every cached state rather than fold a backlog.
        this.watermark = await this.store.headPosition();
        this.generation++;
        this.trustFloor = this.generation;
        return;
      }
    }
    // Synchronous from here: no read can finish between the fold and the generation bump.
    for (const events of batches) {
      for (const r of events) {
        const cached = this.cache.get(r.streamId);
        if (!cached || r.revision <= cached.revision) continue;
        if (r.revision !== cached.revision + 1n) {
          this.cache.delete(r.streamId);
          continue;
        }
        try {
          const decider = cached.decider as Pick<Decider<unknown, unknown, DomainEvent>, 'evolve'>;
          cached.state = decider.evolve(cached.state, this.registry.upcast(r) as unknown as DomainEvent);
          cached.revision = r.revision;
          cached.position = r.position;
        } catch {
          this.cache.delete(r.streamId);
        }
      }
    }
    if (after > this.watermark) this.watermark = after;
    this.generation++;
  }

  /** Reads a stream and folds only the events that occurred at or before `asOf` (point-in-time reads). */
  async load<S, E extends DomainEvent>(
    streamId: string,
    decider: Pick<Decider<unknown, S, E>, 'initialState' | 'evolve'>,
    asOf: string,
  ): Promise<{ state: S; revision: bigint; events: RecordedEvent[] }> {
    const recorded = (await this.store.readStream(streamId)).map((r) => this.registry.upcast(r));
    const upTo = recorded.filter((r) => r.metadata.occurredAt <= asOf);
    const state = fold(decider, upTo as unknown as E[]);
    const revision = upTo.length ? upTo[upTo.length - 1].revision : -1n;
    return { state, revision, events: upTo };
  }

  toAppend<E extends DomainEvent>(events: E[], ctx: CommandContext, orgId: string | null): EventToAppend[] {
    return events.map((e) => ({ type: e.type, data: e.data, metadata: this.metadata(e.type, ctx, orgId) }));
  }

  metadata(type: string, ctx: CommandContext, orgId: string | null, eventId?: string): EventMetadata {
    return {
      eventId: eventId ?? uuidv7(),
      correlationId: ctx.correlationId,
      causationId: ctx.causationId ?? null,
      actor: ctx.actor,
      occurredAt: ctx.now,
      schemaVersion: this.registry.currentVersion(type),
      orgId,
    };
  }
}
