/** How many trailing days the run rate averages. */
export const RUN_RATE_DAYS = 7;

/** Run rate: every future day is the mean of the last `k` days (all of them when fewer). */
export function runRate(history: readonly number[], horizon: number, k = RUN_RATE_DAYS): number[] {
  const last = history.slice(-k);
  const mean = last.length ? last.reduce((s, v) => s + v, 0) / last.length : 0;
  return Array.from({ length: horizon }, () => mean);
}
