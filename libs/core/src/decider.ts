import { randomUUID } from 'node:crypto';
import { CommandContext, DomainEvent, EventMetadata, EventToAppend, RecordedEvent } from './events';
import { EventStore, ExpectedRevision } from './event-store.port';
import { WrongExpectedVersionError } from './errors';
import { EventRegistry } from './registry';

/**
 * A pure decider: business rules as plain functions, no I/O. Time, ids and the actor arrive in the command.
 * decide may throw a PurserError (404, 409, 422...) to refuse a command; a refused command appends nothing.
 */
export interface Decider<C, S, E extends DomainEvent> {
  initialState: S;
  decide(command: C, state: S): E[];
  evolve(state: S, event: E): S;
}

export function fold<S, E extends DomainEvent>(decider: Pick<Decider<unknown, S, E>, 'initialState' | 'evolve'>, events: E[]): S {
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
  constructor(
    private readonly store: EventStore,
    private readonly registry: EventRegistry,
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
      const recorded = await this.store.readStream(streamId);
      const past = recorded.map((r) => this.registry.upcast(r) as unknown as E);
      const revision = recorded.length ? recorded[recorded.length - 1].revision : -1n;
      if (options.expectedRevision !== undefined && options.expectedRevision !== revision) {
        throw new WrongExpectedVersionError(streamId, options.expectedRevision.toString(), revision.toString());
      }
      const state = fold(decider, past);
      const events = decider.decide(command, state);
      if (events.length === 0) {
        return { streamId, events, revision, position: recorded.length ? recorded[recorded.length - 1].position : -1n };
      }
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

  /** Reads a stream and folds it, optionally only events that occurred at or before `asOf`. */
  async load<S, E extends DomainEvent>(
    streamId: string,
    decider: Pick<Decider<unknown, S, E>, 'initialState' | 'evolve'>,
    asOf?: string,
  ): Promise<{ state: S; revision: bigint; events: RecordedEvent[] }> {
    const recorded = (await this.store.readStream(streamId)).map((r) => this.registry.upcast(r));
    const upTo = asOf === undefined ? recorded : recorded.filter((r) => r.metadata.occurredAt <= asOf);
    const state = fold(decider, upTo as unknown as E[]);
    const revision = upTo.length ? upTo[upTo.length - 1].revision : -1n;
    return { state, revision, events: upTo };
  }

  toAppend<E extends DomainEvent>(events: E[], ctx: CommandContext, orgId: string | null): EventToAppend[] {
    return events.map((e) => ({ type: e.type, data: e.data, metadata: this.metadata(e.type, ctx, orgId) }));
  }

  metadata(type: string, ctx: CommandContext, orgId: string | null, eventId?: string): EventMetadata {
    return {
      eventId: eventId ?? randomUUID(),
      correlationId: ctx.correlationId,
      causationId: ctx.causationId ?? null,
      actor: ctx.actor,
      occurredAt: ctx.now,
      schemaVersion: this.registry.currentVersion(type),
      orgId,
    };
  }
}
