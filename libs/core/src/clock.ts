/**
 * The time source of commands and queries. Handlers and the HTTP edge ask the clock instead of calling `new Date()`,
 * so a test can pin time (fixedClock) and a replay can run on recorded time.
 */
export interface Clock {
  now(): Date;
  /** The current instant as ISO-8601 UTC with milliseconds, e.g. 2026-11-25T14:02:00.000Z. */
  nowIso(): string;
}

export const systemClock: Clock = {
  now: () => new Date(),
  nowIso: () => new Date().toISOString(),
};

/** A clock that always answers the same instant (tests). */
export function fixedClock(at: string | Date): Clock {
  const ms = typeof at === 'string' ? Date.parse(at) : at.getTime();
  if (Number.isNaN(ms)) throw new Error(`fixedClock: not an instant: ${String(at)}`);
  const iso = new Date(ms).toISOString();
  return { now: () => new Date(ms), nowIso: () => iso };
}
