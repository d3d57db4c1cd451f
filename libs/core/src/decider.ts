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

/**
 * Loads the stream, folds evolve, calls decide, appends with the revision read, and retries a bounded number of
 * times on a version conflict. Nothing is appended when decide throws.
 */
export class CommandExecutor {
  /** Folded states by stream, so a command reads only the events appended since (LRU; states are immutable). */
  private readonly cache = new Map<
    string,
    { decider: unknown; revision: bigint; position: bigint; state: unknown }
  >();

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
      const events = decider.decide(command, state);
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
    if (revision >= 0n) {
      this.cache.delete(streamId);
      this.cache.set(streamId, { decider, revision, position, state });
      if (this.cache.size > this.cacheSize) this.cache.delete(this.cache.keys().next().value as string);
    }
    return { state, revision, position };
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
