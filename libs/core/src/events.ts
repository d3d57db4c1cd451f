/**
 * Events are data with explicit, stable names. Never rely on a class's runtime name.
 */

/** Who caused a fact. An event without an actor is a bug. */
export type Actor =
  | { type: 'user'; id: string; orgId?: string }
  | { type: 'apiKey'; id: string; orgId?: string }
  | { type: 'system'; id: string };

export const SYSTEM_ACTOR: Actor = { type: 'system', id: 'purser' };

export interface EventMetadata {
  eventId: string;
  correlationId: string;
  causationId: string | null;
  actor: Actor;
  /** ISO-8601 UTC instant at which the fact happened (business time). */
  occurredAt: string;
  schemaVersion: number;
  /** The org the fact belongs to; null only for facts outside any org. */
  orgId: string | null;
}

/** A domain event as deciders produce it: a stable type name and plain data. */
export interface DomainEvent<T extends string = string, D = unknown> {
  type: T;
  data: D;
}

/** An event ready to be appended: a domain event plus its metadata. */
export type EventToAppend<E extends DomainEvent = DomainEvent> = E extends DomainEvent
  ? { type: E['type']; data: E['data']; metadata: EventMetadata }
  : never;

/** An event as stored. Positions and revisions are bigints; convert to strings only at the edges. */
export type RecordedEvent<E extends DomainEvent = DomainEvent> = E extends DomainEvent
  ? {
      streamId: string;
      /** 0-based revision of the event inside its stream. */
      revision: bigint;
      /** Global commit position in the store; strictly increasing in the order of $all. */
      position: bigint;
      type: E['type'];
      data: E['data'];
      metadata: EventMetadata;
    }
  : never;

/** Request context every command carries: time, ids and actor arrive from outside the decider. */
export interface CommandContext {
  actor: Actor;
  correlationId: string;
  causationId?: string | null;
  /** ISO-8601 instant the command is executed at. */
  now: string;
  /**
   * The org the caller is confined to (its credential's org), when the command names orgs in its body rather than
   * in the route: anything of another org is answered as if it did not exist. Absent: the instance administrator or
   * the system, who may name any org.
   */
  confinedTo?: string;
}
