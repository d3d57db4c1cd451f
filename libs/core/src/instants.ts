import { ValidationError } from './errors';

/**
 * One strict parser for the dates and instants the API accepts (query parameters, bodies, usage events).
 *
 * - An instant is `YYYY-MM-DDTHH:MM[:SS[.fraction]]` with a zone (`Z` or `±HH:MM`): a wall-clock time without a
 *   zone means a different instant on every server, so it is refused.
 * - Every field is checked against the calendar: 2026-02-30, hour 24, minute 60 and second 60 are refused (JavaScript
 *   rolls them over silently: `new Date('2026-02-30T00:00:00Z')` is March 2).
 * - Instants are stored as `toISOString()` (milliseconds, UTC), which sorts lexicographically in time order. Digits
 *   beyond the millisecond are accepted only when they are zeros (nothing is lost: `.120000` is `.120`); any other
 *   sub-millisecond digit is refused rather than cut without a word.
 */

export type InstantProblem = 'format' | 'calendar' | 'precision' | 'range';

export type ParsedInstant = { ok: true; ms: number; iso: string } | { ok: false; problem: InstantProblem };

export interface LocalDate {
  year: number;
  month: number;
  day: number;
}

export type ParsedDate = ({ ok: true } & LocalDate) | { ok: false; problem: InstantProblem };

const INSTANT =
  /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,9}))?)?(?:(Z)|([+-])(\d{2}):(\d{2}))$/;
const DATE = /^(\d{4})-(\d{2})-(\d{2})$/;
/** 0001-01-01T00:00:00.000Z and 9999-12-31T23:59:59.999Z: the instants whose ISO form has four year digits. */
const MIN_MS = -62_135_596_800_000;
const MAX_MS = 253_402_300_799_999;
const DAYS = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];

const isLeap = (y: number) => (y % 4 === 0 && y % 100 !== 0) || y % 400 === 0;

/** Whether year-month-day names a day of the Gregorian calendar. */
export function isCalendarDate(year: number, month: number, day: number): boolean {
  if (year < 1 || month < 1 || month > 12 || day < 1) return false;
  return day <= (month === 2 && isLeap(year) ? 29 : DAYS[month - 1]);
}

/** Milliseconds since the epoch of a UTC calendar time (years 1-99 included, which Date.UTC maps to 19xx). */
function utcMs(y: number, mo: number, d: number, h: number, mi: number, s: number, ms: number): number {
  const t = Date.UTC(y, mo - 1, d, h, mi, s, ms);
  return y >= 100 ? t : new Date(t).setUTCFullYear(y);
}

/** Parses a strict ISO-8601 instant with a zone; see the file comment for what is refused. */
export function parseInstant(value: unknown): ParsedInstant {
  if (typeof value !== 'string') return { ok: false, problem: 'format' };
  const m = INSTANT.exec(value);
  if (!m) return { ok: false, problem: 'format' };
  const year = +m[1];
  const month = +m[2];
  const day = +m[3];
  const hour = +m[4];
  const minute = +m[5];
  const second = m[6] === undefined ? 0 : +m[6];
  if (!isCalendarDate(year, month, day) || hour > 23 || minute > 59 || second > 59)
    return { ok: false, problem: 'calendar' };
  const fraction = m[7] ?? '';
  if (fraction.length > 3 && !/^0+$/.test(fraction.slice(3))) return { ok: false, problem: 'precision' };
  const millis = fraction === '' ? 0 : +fraction.slice(0, 3).padEnd(3, '0');
  let offset = 0;
  if (m[8] === undefined) {
    const oh = +m[10];
    const om = +m[11];
    if (oh > 23 || om > 59) return { ok: false, problem: 'calendar' };
    offset = (m[9] === '-' ? -1 : 1) * (oh * 60 + om) * 60_000;
  }
  const ms = utcMs(year, month, day, hour, minute, second, millis) - offset;
  if (ms < MIN_MS || ms > MAX_MS) return { ok: false, problem: 'range' };
  // Already canonical (the common case on the ingest path): no need to format it again.
  const iso =
    value.length === 24 && m[8] === 'Z' && fraction.length === 3 ? value : new Date(ms).toISOString();
  return { ok: true, ms, iso };
}

/** Parses a strict calendar date, YYYY-MM-DD. */
export function parseLocalDate(value: unknown): ParsedDate {
  if (typeof value !== 'string') return { ok: false, problem: 'format' };
  const m = DATE.exec(value);
  if (!m) return { ok: false, problem: 'format' };
  const year = +m[1];
  const month = +m[2];
  const day = +m[3];
  if (!isCalendarDate(year, month, day)) return { ok: false, problem: 'calendar' };
  return { ok: true, year, month, day };
}

const EXAMPLE_INSTANT = '2026-11-25T14:02:00Z';

/** The message for a refused instant of a named field. */
export function instantMessage(field: string, problem: InstantProblem, dateAllowed = false): string {
  switch (problem) {
    case 'calendar':
      return `${field} is not a real date and time (month 01-12, a day that month has, hour 00-23, minute and second 00-59)`;
    case 'precision':
      return `${field} has sub-millisecond digits: instants are kept at most at millisecond precision (3 fraction digits)`;
    case 'range':
      return `${field} is outside years 0001-9999`;
    case 'format':
      return dateAllowed
        ? `${field} must be a date (YYYY-MM-DD) or an ISO-8601 instant with a zone, such as ${EXAMPLE_INSTANT}`
        : `${field} must be an ISO-8601 instant with a zone, such as ${EXAMPLE_INSTANT}`;
  }
}

const PROBLEM_DETAIL: Record<InstantProblem, string> = {
  format: 'not an ISO-8601 instant with a zone',
  calendar: 'not a calendar date and time',
  precision: 'more than millisecond precision',
  range: 'out of range',
};

/** A strict instant of a named field as its canonical ISO form, or a 400 naming the field. */
export function instantOrThrow(value: unknown, field: string): string {
  const r = parseInstant(value);
  if (r.ok) return r.iso;
  throw new ValidationError(instantMessage(field, r.problem), [
    { field, problem: PROBLEM_DETAIL[r.problem] },
  ]);
}

/** A strict YYYY-MM-DD date (kept as it is) or instant (made canonical), as the reports' from/to take; else a 400. */
export function dateOrInstantOrThrow(value: unknown, field: string): string {
  const d = parseLocalDate(value);
  if (d.ok) return value as string;
  let problem = d.problem;
  if (problem === 'format') {
    const i = parseInstant(value);
    if (i.ok) return i.iso;
    problem = i.problem;
  }
  throw new ValidationError(instantMessage(field, problem, true), [
    { field, problem: PROBLEM_DETAIL[problem] },
  ]);
}
