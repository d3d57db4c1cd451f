import { Decider, DomainEvent, accepted, fold } from '@purser/core';

/**
 * Given past events, when a command, then new events or an error.
 *   given(decider, [...past]).when(command).then([...expected])
 *   given(decider, [...past]).when(command).thenRefuses(ConflictError, /cycle/)
 */
export function given<C, S, E extends DomainEvent>(decider: Decider<C, S, E>, past: E[] = []) {
  const state = fold(decider, past);
  return {
    state,
    when(command: C) {
      // A refusal is returned, not thrown: raise it so thenRefuses sees the PurserError it carries.
      const run = () => accepted(decider.decide(command, state));
      return {
        then(expected: Array<Partial<E> & { type: E['type'] }>) {
          const events = run();
          expect(events).toEqual(expected.map((e) => expect.objectContaining(e)));
          return events;
        },
        thenNothing() {
          expect(run()).toEqual([]);
        },
        thenRefuses(errorClass: new (...args: any[]) => Error, message?: RegExp) {
          let thrown: unknown;
          try {
            run();
          } catch (err) {
            thrown = err;
          }
          expect(thrown).toBeInstanceOf(errorClass);
          if (message) expect((thrown as Error).message).toMatch(message);
          return thrown as Error & { details?: unknown[] };
        },
      };
    },
  };
}
