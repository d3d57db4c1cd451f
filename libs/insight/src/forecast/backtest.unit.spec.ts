import { FORECASTERS, backtest, choose, forecastTotal, historyNeeded, interval, quantile } from './backtest';

const byMethod = (m: string) => FORECASTERS.find((f) => f.method === m)!;

describe('rolling-origin backtest and choice', () => {
  const p = [10, 20, 30, 40, 50, 60, 70];
  const weekly = Array.from({ length: 42 }, (_, t) => p[t % 7]);

  it('given a stationary weekly series and a 3-day horizon, then run rate errs by |3 days of the pattern - 3 x its mean| and seasonal naive is chosen, exact', () => {
    const n = weekly.length;
    const rr = backtest(weekly, 3, byMethod('run-rate'));
    let expected = 0;
    for (let k = 0; k < 8; k++) {
      const t = n - 3 - k;
      expected += Math.abs(p[t % 7] + p[(t + 1) % 7] + p[(t + 2) % 7] - 3 * 40);
    }
    expect(rr.mae).toBeCloseTo(expected / 8, 9);
    const best = choose(weekly, 3);
    expect(best.method).toBe('seasonal-naive');
    expect(best.mae).toBe(0);
  });

  it('given a linear trend, then Holt-Winters is chosen and run rate lags by m(4H + H(H-1)/2) at every origin', () => {
    const m = 3;
    const trend = Array.from({ length: 40 }, (_, t) => 5 + m * t);
    const H = 5;
    const rr = backtest(trend, H, byMethod('run-rate'));
    expect(rr.mae).toBeCloseTo(m * (4 * H + (H * (H - 1)) / 2), 9);
    rr.residuals.forEach((r) => expect(r).toBeCloseTo(m * (4 * H + (H * (H - 1)) / 2), 9));
    const best = choose(trend, H);
    expect(best.method).toBe('holt-winters');
    expect(best.mae).toBeCloseTo(0, 9);
  });

  it('given too short a history, then it says how many days it needs (two weeks + horizon + origins - 1)', () => {
    expect(historyNeeded(7)).toBe(14 + 7 + 8 - 1);
    expect(() => backtest(weekly.slice(0, 20), 7, byMethod('run-rate'))).toThrow(/needs 28 days/);
  });
});

describe('prediction interval from backtest residuals', () => {
  it('given five residuals, then the empirical quantiles interpolate between order statistics', () => {
    expect(quantile([5, 1, 4, 2, 3], 0.1)).toBeCloseTo(1.4, 12);
    expect(quantile([5, 1, 4, 2, 3], 0.5)).toBe(3);
    const i80 = interval(10, [-2, -1, 0, 1, 2], 0.8);
    expect(i80.low).toBeCloseTo(8.4, 12);
    expect(i80.high).toBeCloseTo(11.6, 12);
  });

  it('given residuals far below, then the interval never goes below the floor', () => {
    expect(interval(1, [-5, -4], 0.95, 0).low).toBe(0);
  });

  it('given an exact weekly series, then the forecast total is the pattern and the intervals are the point', () => {
    const p = [10, 20, 30, 40, 50, 60, 70];
    const f = forecastTotal(
      Array.from({ length: 35 }, (_, t) => p[t % 7]),
      2,
    );
    // Days 35 and 36 fall on the weekdays of 0 and 1.
    expect(f).toEqual({
      method: 'seasonal-naive',
      expected: 30,
      backtestMae: 0,
      interval80: { low: 30, high: 30 },
      interval95: { low: 30, high: 30 },
    });
  });
});
