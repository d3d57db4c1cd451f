import { SEASON } from './seasonal-naive';

/**
 * Additive Holt-Winters smoothing parameters, fixed: level alpha 0.3, trend beta 0.05 (a slowly moving trend),
 * season gamma 0.2. Fixed rather than fitted so a forecast costs one pass over the history.
 */
export const HW_PARAMS = { alpha: 0.3, beta: 0.05, gamma: 0.2 } as const;
/** Holt-Winters needs two whole seasons to start. */
export const HW_MIN_HISTORY = 2 * SEASON;

/**
 * Additive Holt-Winters with a 7-day season. Start (m1, m2 the means of the first two weeks): trend b = (m2 - m1) / 7,
 * level L = m1 + 3b (the level of day 6, m1 being that of day 3), season s[i] = y[i] - (m1 + (i - 3)b). Then for
 * every day t from 7 on: L' = a(y - s[t%7]) + (1-a)(L + b); b' = B(L' - L) + (1-B)b; s[t%7] = g(y - L') + (1-g)s[t%7].
 * Forecast of day n-1+h: L + h*b + s[(n-1+h)%7], never below zero. Needs at least two weeks of history.
 */
export function holtWinters(
  history: readonly number[],
  horizon: number,
  params: { alpha: number; beta: number; gamma: number } = HW_PARAMS,
): number[] {
  const n = history.length;
  if (n < HW_MIN_HISTORY) throw new RangeError(`Holt-Winters needs ${HW_MIN_HISTORY} days, got ${n}`);
  const { alpha, beta, gamma } = params;
  let first = 0;
  let second = 0;
  for (let i = 0; i < SEASON; i++) {
    first += history[i];
    second += history[i + SEASON];
  }
  first /= SEASON;
  second /= SEASON;
  let trend = (second - first) / SEASON;
  // The first week's mean is the level of its middle day (day 3): the level of day 6 is three trends on.
  let level = first + 3 * trend;
  const season = new Array<number>(SEASON);
  for (let i = 0; i < SEASON; i++) season[i] = history[i] - (first + (i - 3) * trend);
  for (let t = SEASON; t < n; t++) {
    const y = history[t];
    const s = t % SEASON;
    const prev = level;
    level = alpha * (y - season[s]) + (1 - alpha) * (level + trend);
    trend = beta * (level - prev) + (1 - beta) * trend;
    season[s] = gamma * (y - level) + (1 - gamma) * season[s];
  }
  const out: number[] = [];
  for (let h = 1; h <= horizon; h++) out.push(Math.max(0, level + h * trend + season[(n - 1 + h) % SEASON]));
  return out;
}
