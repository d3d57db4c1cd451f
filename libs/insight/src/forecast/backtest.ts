import { HW_MIN_HISTORY, holtWinters } from './holt-winters';
import { runRate } from './run-rate';
import { seasonalNaive } from './seasonal-naive';

export type Method = 'run-rate' | 'seasonal-naive' | 'holt-winters';
export type Forecaster = (history: readonly number[], horizon: number) => number[];

/** The candidates, in the order ties are broken (the simpler method wins a tie). */
export const FORECASTERS: ReadonlyArray<{ method: Method; forecast: Forecaster }> = [
  { method: 'run-rate', forecast: (h, n) => runRate(h, n) },
  { method: 'seasonal-naive', forecast: (h, n) => seasonalNaive(h, n) },
  { method: 'holt-winters', forecast: (h, n) => holtWinters(h, n) },
];

/**
 * Rolling origins of the backtest: 8, one day apart, the latest ending on the last day of history. More than the
 * 4 usual for choosing, since the same residuals give the prediction intervals.
 */
export const BACKTEST_ORIGINS = 8;
/** The shortest history a backtest origin trains on: two weeks (Holt-Winters' start). */
export const MIN_TRAINING_DAYS = HW_MIN_HISTORY;

/** The days of history a forecast over `horizon` days needs (the earliest origin still trains on two weeks). */
export const historyNeeded = (horizon: number, origins = BACKTEST_ORIGINS) =>
  MIN_TRAINING_DAYS + horizon + origins - 1;

export interface Backtest {
  method: Method;
  /** Mean absolute error of the horizon's total over the origins. */
  mae: number;
  /** actual - forecast of the horizon's total, one per origin (latest origin first). */
  residuals: number[];
}

const sum = (xs: readonly number[]) => xs.reduce((s, v) => s + v, 0);

/**
 * Rolling-origin backtest of one method: at origin t (t = n - horizon - k, k = 0..origins-1) it is trained on days
 * [0, t) and forecasts days [t, t + horizon); the error is that of the horizon's total.
 */
export function backtest(
  history: readonly number[],
  horizon: number,
  forecaster: { method: Method; forecast: Forecaster },
  origins = BACKTEST_ORIGINS,
): Backtest {
  const n = history.length;
  if (n < historyNeeded(horizon, origins))
    throw new RangeError(`a backtest over ${horizon} days needs ${historyNeeded(horizon, origins)} days`);
  const residuals: number[] = [];
  for (let k = 0; k < origins; k++) {
    const t = n - horizon - k;
    const actual = sum(history.slice(t, t + horizon));
    residuals.push(actual - sum(forecaster.forecast(history.slice(0, t), horizon)));
  }
  return { method: forecaster.method, mae: sum(residuals.map(Math.abs)) / origins, residuals };
}

/** MAEs this close (relative to the larger, or absolutely below 1e-9) are a tie: float noise decides nothing. */
const TIE = 1e-9;

/** The candidate with the lowest backtest MAE (ties: the earlier, simpler one). */
export function choose(
  history: readonly number[],
  horizon: number,
  candidates = FORECASTERS,
  origins = BACKTEST_ORIGINS,
): Backtest & { forecast: Forecaster } {
  let best: (Backtest & { forecast: Forecaster }) | null = null;
  for (const c of candidates) {
    const b = backtest(history, horizon, c, origins);
    if (!best || b.mae < best.mae - TIE * Math.max(1, best.mae)) best = { ...b, forecast: c.forecast };
  }
  return best!;
}

/** Empirical quantile with linear interpolation between order statistics (R's type 7). */
export function quantile(values: readonly number[], p: number): number {
  const xs = [...values].sort((a, b) => a - b);
  if (!xs.length) return 0;
  const h = (xs.length - 1) * p;
  const lo = Math.floor(h);
  const hi = Math.ceil(h);
  return xs[lo] + (h - lo) * (xs[hi] - xs[lo]);
}

/** A central prediction interval at `level` (0.8, 0.95): the point plus the residuals' quantiles, not below `floor`. */
export function interval(point: number, residuals: readonly number[], level: number, floor = 0) {
  const tail = (1 - level) / 2;
  return {
    low: Math.max(floor, point + quantile(residuals, tail)),
    high: Math.max(floor, point + quantile(residuals, 1 - tail)),
  };
}

export interface Forecast {
  method: Method;
  /** The forecast total of the next `horizon` days. */
  expected: number;
  backtestMae: number;
  interval80: { low: number; high: number };
  interval95: { low: number; high: number };
}

/** Chooses a method by backtest and forecasts the total of the next `horizon` days, with its intervals. */
export function forecastTotal(history: readonly number[], horizon: number): Forecast {
  const best = choose(history, horizon);
  const expected = Math.max(0, sum(best.forecast(history, horizon)));
  return {
    method: best.method,
    expected,
    backtestMae: best.mae,
    interval80: interval(expected, best.residuals, 0.8),
    interval95: interval(expected, best.residuals, 0.95),
  };
}
