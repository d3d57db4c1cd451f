import { DomainEvent, RecordedEvent } from './events';
import { EventStore } from './event-store.port';
import { StaleStateError } from './errors';
import { EventRegistry } from './registry';
import { Decider, Evolver } from './decider';

/** A stream's folded state, the revision it is folded to, and the global position of that revision's event. */
export interface FoldedState<S> {
  state: S;
  revision: bigint;
  position: bigint;
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
 * Folded states by stream, so a command reads only the events appended since (LRU; states are immutable, or hand
 * their mutable parts on from each state to the next, see ReservationBook). Caught up from $all on demand.
 */
export class StateCache {
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

  /** The stream's current state: the cached fold plus the events appended since. */
  async current<S, E extends DomainEvent>(streamId: string, decider: Evolver<S, E>): Promise<FoldedState<S>> {
    const cached = this.cache.get(streamId);
    let state: S;
    let revision = -1n;
    let position = -1n;
    if (cached && cached.decider === decider) {
      state = cached.state as S;
      revision = cached.revision;
      position = cached.position;
    } else state = decider.initialState();
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
    this.put(streamId, {
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
    decider: Evolver<S, E>,
    revision: bigint,
  ): Promise<FoldedState<S>> {
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
  async recent<S, E extends DomainEvent>(streamId: string, decider: Evolver<S, E>): Promise<FoldedState<S>> {
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
    decider: Evolver<S, E>,
    folded: FoldedState<S>,
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

  private put(streamId: string, entry: CacheEntry): void {
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
}
