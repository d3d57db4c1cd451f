/**
 * Calendar periods in an org's time zone: hour, day, ISO week (Monday start) and month. Keys sort as strings
 * in time order: hour "2026-11-25T14", day "2026-11-25", week "2026-W2026-11-23" (its Monday), month "2026-11".
 */
export type Grain = 'hour' | 'day' | 'week' | 'month';
export const GRAINS: readonly Grain[] = ['hour', 'day', 'week', 'month'];

export interface LocalParts {
  year: number;
  month: number;
  day: number;
  hour: number;
  minute: number;
}

const formatters = new Map<string, Intl.DateTimeFormat>();
const partsCache = new Map<string, LocalParts>();

function formatter(timeZone: string): Intl.DateTimeFormat {
  let f = formatters.get(timeZone);
  if (!f) {
    f = new Intl.DateTimeFormat('en-US', {
      timeZone,
      hourCycle: 'h23',
      year: 'numeric',
      month: 'numeric',
      day: 'numeric',
      hour: 'numeric',
      minute: 'numeric',
    });
    formatters.set(timeZone, f);
  }
  return f;
}

/** Wall-clock parts of an instant in a time zone. Cached per 15-minute slot (every zone offset is a multiple). */
export function localParts(epochMs: number, timeZone: string): LocalParts {
  const slot = Math.floor(epochMs / 900_000);
  const key = `${timeZone}|${slot}`;
  let base = partsCache.get(key);
  if (!base) {
    const p: Record<string, number> = {};
    for (const { type, value } of formatter(timeZone).formatToParts(new Date(slot * 900_000))) {
      if (type !== 'literal') p[type] = Number(value);
    }
    base = { year: p.year, month: p.month, day: p.day, hour: p.hour, minute: p.minute };
    if (partsCache.size > 100_000) partsCache.clear();
    partsCache.set(key, base);
  }
  const extra = Math.floor((epochMs - slot * 900_000) / 60_000);
  return extra ? { ...base, minute: base.minute + extra } : base;
}

const pad = (n: number, w = 2) => String(n).padStart(w, '0');

function mondayOf(year: number, month: number, day: number): string {
  const d = new Date(Date.UTC(year, month - 1, day));
  const dow = (d.getUTCDay() + 6) % 7;
  d.setUTCDate(d.getUTCDate() - dow);
  return `${d.getUTCFullYear()}-${pad(d.getUTCMonth() + 1)}-${pad(d.getUTCDate())}`;
}

export function periodKey(grain: Grain, p: LocalParts): string {
  const day = `${p.year}-${pad(p.month)}-${pad(p.day)}`;
  switch (grain) {
    case 'hour':
      return `${day}T${pad(p.hour)}`;
    case 'day':
      return day;
    case 'week':
      return `W${mondayOf(p.year, p.month, p.day)}`;
    case 'month':
      return `${p.year}-${pad(p.month)}`;
  }
}

/** The period keys of an instant at every grain, in a time zone. */
export function periodKeys(instant: string | number, timeZone: string): Record<Grain, string> {
  const p = localParts(typeof instant === 'number' ? instant : Date.parse(instant), timeZone);
  return {
    hour: periodKey('hour', p),
    day: periodKey('day', p),
    week: periodKey('week', p),
    month: periodKey('month', p),
  };
}

/** Offset of a zone from UTC at an instant, in ms. */
function offsetMs(epochMs: number, timeZone: string): number {
  const p = localParts(epochMs, timeZone);
  return Date.UTC(p.year, p.month - 1, p.day, p.hour, p.minute) - Math.floor(epochMs / 60_000) * 60_000;
}

/** The UTC instant of a wall-clock time in a zone (a skipped DST time resolves forward). */
export function zonedTimeToEpoch(
  year: number,
  month: number,
  day: number,
  hour: number,
  timeZone: string,
): number {
  const guess = Date.UTC(year, month - 1, day, hour);
  let t = guess - offsetMs(guess, timeZone);
  t = guess - offsetMs(t, timeZone);
  return t;
}

/** [start, end) of the period containing an instant, as UTC instants. */
export function periodBounds(
  grain: Grain,
  instant: string | number,
  timeZone: string,
): { key: string; start: string; end: string } {
  const p = localParts(typeof instant === 'number' ? instant : Date.parse(instant), timeZone);
  const key = periodKey(grain, p);
  let start: number;
  let end: number;
  switch (grain) {
    case 'hour':
      start = zonedTimeToEpoch(p.year, p.month, p.day, p.hour, timeZone);
      end = zonedTimeToEpoch(p.year, p.month, p.day, p.hour + 1, timeZone);
      break;
    case 'day':
      start = zonedTimeToEpoch(p.year, p.month, p.day, 0, timeZone);
      end = zonedTimeToEpoch(p.year, p.month, p.day + 1, 0, timeZone);
      break;
    case 'week': {
      const [y, m, d] = key.slice(1).split('-').map(Number);
      start = zonedTimeToEpoch(y, m, d, 0, timeZone);
      end = zonedTimeToEpoch(y, m, d + 7, 0, timeZone);
      break;
    }
    case 'month':
      start = zonedTimeToEpoch(p.year, p.month, 1, 0, timeZone);
      end = zonedTimeToEpoch(p.year, p.month + 1, 1, 0, timeZone);
      break;
  }
  return { key, start: new Date(start).toISOString(), end: new Date(end).toISOString() };
}
