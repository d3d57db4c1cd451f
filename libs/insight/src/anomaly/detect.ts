/**
 * Unusual activity in an hourly series (UTC hours from `start`), as a pure function. Three detectors:
 *
 * - `hour-of-week`: robust z-score of an hour against the same hour of the week over the trailing WINDOW_WEEKS
 *   weeks: z = (x - median) / (1.4826 MAD), the MAD scaled to a normal's standard deviation.
 * - `daily`: the same on daily totals (24-hour blocks from `start`) against the same weekday.
 * - `ewma`: an EWMA chart of daily totals for slow drift: z = lambda x + (1 - lambda) z, started at the mean of a
 *   reference window (the EWMA_DAYS days before the EWMA_DAYS charted), alerting where z first crosses
 *   mean + L sigma sqrt(lambda / (2 - lambda)).
 *
 * Every alert is gated by impact (actual - expected): at least MIN_ABSOLUTE_IMPACT in the series' unit and at least
 * MIN_RELATIVE_IMPACT of the expected value, so small noise on small figures never alerts however unusual it is.
 * Only rises alert (spend that is unusually high); a drop is not an alert.
 */

/** A robust z-score at or above this alerts (Iglewicz and Hoaglin's 3.5). */
export const Z_THRESHOLD = 3.5;
/** Weeks of the same hour of the week (or weekday) the robust z-score compares with. */
export const WINDOW_WEEKS = 8;
/** Fewer past points than this and nothing is judged. */
export const MIN_WINDOW_POINTS = 4;
/** An alert's impact is at least this much (1 unit of the currency). */
export const MIN_ABSOLUTE_IMPACT = 1;
/** ... and at least this share of what was expected (50 % above it). */
export const MIN_RELATIVE_IMPACT = 0.5;
/** EWMA smoothing and control-limit width; days of the reference window and of the chart. */
export const EWMA_LAMBDA = 0.2;
export const EWMA_L = 3;
export const EWMA_DAYS = 28;
/** A MAD of zero (a constant window) is floored, so the score stays finite. */
const MIN_SCALE = 1e-9;

const HOUR_MS = 3_600_000;
const WEEK_HOURS = 168;

export type AnomalyMethod = 'hour-of-week' | 'daily' | 'ewma';

export interface Anomaly {
  /** The start of the unusual hour or day (UTC). */
  at: string;
  expected: number;
  actual: number;
  /** actual - expected */
  impact: number;
  score: number;
  method: AnomalyMethod;
  /** The points the expectation was computed from. */
  window: { from: string; to: string; points: number };
}

export interface HourlySeries {
  /** The first hour, an instant on a UTC hour. */
  start: string;
  values: readonly number[];
}

export interface DetectOptions {
  minAbsoluteImpact?: number;
  minRelativeImpact?: number;
  zThreshold?: number;
}

export function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 ? s[mid] : (s[mid - 1] + s[mid]) / 2;
}

/** Median and MAD-based robust z-score of x against a window. */
export function robustZ(x: number, window: readonly number[]): { median: number; score: number } {
  const med = median(window);
  const mad = median(window.map((v) => Math.abs(v - med)));
  return { median: med, score: (x - med) / Math.max(1.4826 * mad, MIN_SCALE) };
}

function gated(expected: number, actual: number, o: Required<DetectOptions>): boolean {
  const impact = actual - expected;
  return impact >= o.minAbsoluteImpact && impact >= o.minRelativeImpact * Math.abs(expected);
}

/** Seasonal robust z-scores: each point against the same phase over the last WINDOW_WEEKS seasons. */
function seasonal(
  values: readonly number[],
  season: number,
  stepMs: number,
  startMs: number,
  method: AnomalyMethod,
  o: Required<DetectOptions>,
): Anomaly[] {
  const out: Anomaly[] = [];
  for (let t = 0; t < values.length; t++) {
    const window: number[] = [];
    for (let k = 1; k <= WINDOW_WEEKS && t - k * season >= 0; k++) window.push(values[t - k * season]);
    if (window.length < MIN_WINDOW_POINTS) continue;
    const { median: expected, score } = robustZ(values[t], window);
    if (score < o.zThreshold || !gated(expected, values[t], o)) continue;
    out.push({
      at: iso(startMs + t * stepMs),
      expected,
      actual: values[t],
      impact: values[t] - expected,
      score,
      method,
      window: {
        from: iso(startMs + (t - window.length * season) * stepMs),
        to: iso(startMs + (t - season) * stepMs),
        points: window.length,
      },
    });
  }
  return out;
}

/** EWMA chart of daily totals: the first day of each run above the upper control limit. */
function ewma(days: readonly number[], startMs: number, o: Required<DetectOptions>): Anomaly[] {
  const out: Anomaly[] = [];
  let above = false;
  for (let t = 2 * EWMA_DAYS; t < days.length; t++) {
    const ref = days.slice(t - 2 * EWMA_DAYS, t - EWMA_DAYS);
    const mean = ref.reduce((s, v) => s + v, 0) / ref.length;
    const sd = Math.sqrt(ref.reduce((s, v) => s + (v - mean) ** 2, 0) / (ref.length - 1));
    let z = mean;
    for (let i = t - EWMA_DAYS + 1; i <= t; i++) z = EWMA_LAMBDA * days[i] + (1 - EWMA_LAMBDA) * z;
    const limit = mean + EWMA_L * Math.max(sd, MIN_SCALE) * Math.sqrt(EWMA_LAMBDA / (2 - EWMA_LAMBDA));
    const alert = z > limit && gated(mean, z, o);
    if (alert && !above)
      out.push({
        at: iso(startMs + t * 86_400_000),
        expected: mean,
        actual: z,
        impact: z - mean,
        score: (z - mean) / (Math.max(sd, MIN_SCALE) * Math.sqrt(EWMA_LAMBDA / (2 - EWMA_LAMBDA))),
        method: 'ewma',
        window: {
          from: iso(startMs + (t - 2 * EWMA_DAYS) * 86_400_000),
          to: iso(startMs + (t - EWMA_DAYS - 1) * 86_400_000),
          points: EWMA_DAYS,
        },
      });
    above = alert;
  }
  return out;
}

/** Daily totals of an hourly series: consecutive 24-hour blocks from its start (a partial last day is left out). */
export function dailyTotals(values: readonly number[]): number[] {
  const days: number[] = [];
  for (let d = 0; (d + 1) * 24 <= values.length; d++) {
    let s = 0;
    for (let h = 0; h < 24; h++) s += values[d * 24 + h];
    days.push(s);
  }
  return days;
}

/** The unusual hours and days of a series, in time order (then by method). */
export function detect(series: HourlySeries, options: DetectOptions = {}): Anomaly[] {
  const o: Required<DetectOptions> = {
    minAbsoluteImpact: options.minAbsoluteImpact ?? MIN_ABSOLUTE_IMPACT,
    minRelativeImpact: options.minRelativeImpact ?? MIN_RELATIVE_IMPACT,
    zThreshold: options.zThreshold ?? Z_THRESHOLD,
  };
  const startMs = Date.parse(series.start);
  if (Number.isNaN(startMs) || startMs % HOUR_MS !== 0)
    throw new RangeError(`series start must be an instant on a UTC hour: ${series.start}`);
  const days = dailyTotals(series.values);
  return [
    ...seasonal(series.values, WEEK_HOURS, HOUR_MS, startMs, 'hour-of-week', o),
    ...seasonal(days, 7, 24 * HOUR_MS, startMs, 'daily', o),
    ...ewma(days, startMs, o),
  ].sort((a, b) => (a.at < b.at ? -1 : a.at > b.at ? 1 : a.method < b.method ? -1 : 1));
}

const iso = (ms: number) => new Date(ms).toISOString();
