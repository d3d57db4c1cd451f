import { CommandContext, DomainEvent, EventMetadata, EventToAppend, RecordedEvent } from './events';
import { EventStore, ExpectedRevision } from './event-store.port';
import { StaleStateError, WrongExpectedVersionError } from './errors';
import { EventRegistry } from './registry';
import { Decider, Evolver, fold, isRefusal } from './decider';
import { FoldedState, StateCache } from './state-cache';
import { EventStamper } from './event-stamp';

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

/**
 * The one command path for a single stream: load the stream (from the state cache), call decide, append with the
 * revision read, and retry a bounded number of times on a version conflict. A refusal is raised as its PurserError
 * and appends nothing. Also the way in to the state cache (current, recent, atRevision...) for handlers and lookups.
 */
export class CommandExecutor {
  readonly states: StateCache;
  readonly stamper: EventStamper;

  constructor(
    private readonly store: EventStore,
    private readonly registry: EventRegistry,
    cacheSize = 10_000,
  ) {
    this.states = new StateCache(store, registry, cacheSize);
    this.stamper = new EventStamper(registry);
  }

  async execute<C, S, E extends DomainEvent>(
    streamId: string,
    decider: Decider<C, S, E>,
    command: C,
    ctx: CommandContext,
    options: ExecuteOptions,
  ): Promise<CommandResult<E>> {
    const maxRetries = options.expectedRevision !== undefined ? 0 : (options.maxRetries ?? 3);
    for (let attempt = 0; ; attempt++) {
      const { state, revision, position } = await this.states.current(streamId, decider);
      if (options.expectedRevision !== undefined && options.expectedRevision !== revision) {
        throw new WrongExpectedVersionError(
          streamId,
          options.expectedRevision.toString(),
          revision.toString(),
        );
      }
      let events: E[];
      try {
        const decision = decider.decide(command, state);
        if (isRefusal(decision)) throw decision.refused;
        events = decision;
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

  /** See StateCache.current. */
  current<S, E extends DomainEvent>(streamId: string, decider: Evolver<S, E>): Promise<FoldedState<S>> {
    return this.states.current(streamId, decider);
  }

  /** See StateCache.atRevision. */
  atRevision<S, E extends DomainEvent>(
    streamId: string,
    decider: Evolver<S, E>,
    revision: bigint,
  ): Promise<FoldedState<S>> {
    return this.states.atRevision(streamId, decider, revision);
  }

  /** See StateCache.recent. */
  recent<S, E extends DomainEvent>(streamId: string, decider: Evolver<S, E>): Promise<FoldedState<S>> {
    return this.states.recent(streamId, decider);
  }

  /** See StateCache.remember. */
  remember<S, E extends DomainEvent>(
    streamId: string,
    decider: Evolver<S, E>,
    folded: FoldedState<S>,
    complete: boolean,
  ): void {
    this.states.remember(streamId, decider, folded, complete);
  }

  /** See StateCache.forget. */
  forget(streamId: string): void {
    this.states.forget(streamId);
  }

  /** See StateCache.catchUp. */
  catchUp(): Promise<void> {
    return this.states.catchUp();
  }

  /** Reads a stream and folds only the events that occurred at or before `asOf` (point-in-time reads). */
  async load<S, E extends DomainEvent>(
    streamId: string,
    decider: Evolver<S, E>,
    asOf: string,
  ): Promise<{ state: S; revision: bigint; events: RecordedEvent[] }> {
    const recorded = (await this.store.readStream(streamId)).map((r) => this.registry.upcast(r));
    const upTo = recorded.filter((r) => r.metadata.occurredAt <= asOf);
    const state = fold(decider, upTo as unknown as E[]);
    const revision = upTo.length ? upTo[upTo.length - 1].revision : -1n;
    return { state, revision, events: upTo };
  }

  toAppend<E extends DomainEvent>(events: E[], ctx: CommandContext, orgId: string | null): EventToAppend[] {
    return this.stamper.toAppend(events, ctx, orgId);
  }

  metadata(type: string, ctx: CommandContext, orgId: string | null, eventId?: string): EventMetadata {
    return this.stamper.metadata(type, ctx, orgId, eventId);
  }
}
