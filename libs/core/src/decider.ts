import { DomainEvent } from './events';
import { PurserError } from './errors';

/**
 * A refused command: the decider's answer when a business rule says no. It carries the PurserError the HTTP edge maps
 * to 4xx; the executor (or the handler) raises it, so a decider never throws to refuse.
 */
export interface Refusal<R extends PurserError = PurserError> {
  readonly refused: R;
}

/** What a decider answers: the events the command causes (none: nothing to do), or a refusal. */
export type Decision<E, R extends PurserError = PurserError> = E[] | Refusal<R>;

export function refuse<R extends PurserError>(error: R): Refusal<R> {
  return { refused: error };
}

export function isRefusal<E, R extends PurserError>(d: Decision<E, R>): d is Refusal<R> {
  return !Array.isArray(d);
}

/** The events of an accepted decision; a refusal is raised as its PurserError (for handlers that only forward it). */
export function accepted<E>(d: Decision<E>): E[] {
  if (!Array.isArray(d)) throw d.refused;
  return d;
}

/**
 * A pure decider: business rules as plain functions, no I/O. Time, ids and the actor arrive in the command.
 * decide answers events or a refusal (see refuse); a refused command appends nothing. initialState is a factory:
 * no fold shares a mutable object with another.
 */
export interface Decider<C, S, E extends DomainEvent> {
  initialState: () => S;
  decide(command: C, state: S): Decision<E>;
  evolve(state: S, event: E): S;
}

/** The part of a decider that folds a stream into a state. */
export type Evolver<S, E extends DomainEvent> = Pick<Decider<unknown, S, E>, 'initialState' | 'evolve'>;

export function fold<S, E extends DomainEvent>(decider: Evolver<S, E>, events: E[]): S {
  return events.reduce((s, e) => decider.evolve(s, e), decider.initialState());
}
