/** The season of a daily series: a week. */
export const SEASON = 7;
/** How many past weeks the weekday profile averages. */
export const PROFILE_WEEKS = 4;

/**
 * Seasonal naive with a weekday profile: a future day is the mean of the same weekday over the last `weeks` weeks
 * (as many as the history holds). With weeks = 1 it is the classic seasonal naive (the same weekday a week before).
 */
export function seasonalNaive(history: readonly number[], horizon: number, weeks = PROFILE_WEEKS): number[] {
  const n = history.length;
  const out: number[] = [];
  for (let h = 1; h <= horizon; h++) {
    // The latest past day with the same weekday as day n-1+h.
    let t = n - 1 + h - SEASON * Math.ceil(h / SEASON);
    let sum = 0;
    let count = 0;
    for (let w = 0; w < weeks && t >= 0; w++, t -= SEASON) {
      sum += history[t];
      count++;
    }
    out.push(count ? sum / count : 0);
  }
  return out;
}
