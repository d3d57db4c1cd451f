import { HW_PARAMS, holtWinters } from './holt-winters';

describe('additive Holt-Winters, 7-day season', () => {
  const c = 100;
  const m = 2;
  const p = [-9, -6, -3, 0, 3, 6, 9]; // a weekly profile with mean 0
  const y = (t: number) => c + m * t + p[t % 7];

  it('given a linear trend plus a weekly profile, then the forecast continues both exactly: c + m(n-1+h) + p', () => {
    const n = 28;
    const history = Array.from({ length: n }, (_, t) => y(t));
    const expected = Array.from({ length: 10 }, (_, i) => y(n + i));
    holtWinters(history, 10).forEach((f, i) => expect(f).toBeCloseTo(expected[i], 9));
  });

  it('given one day 10 above the pattern, then level, trend and that weekday move by the smoothing formulas', () => {
    const n = 15;
    const history = Array.from({ length: n }, (_, t) => y(t) + (t === 14 ? 10 : 0));
    const { alpha, beta, gamma } = HW_PARAMS;
    // Before day 14 the state is exact: level y(13) - p[6], trend m, season p.
    const level = c + m * 14 + alpha * 10; // a(y - s) + (1-a)(L + b), y - s = c + 14m + 10
    const trend = m + beta * alpha * 10;
    const s0 = p[0] + gamma * (c + m * 14 + p[0] + 10 - level - p[0]);
    const f = holtWinters(history, 7);
    for (let h = 1; h <= 7; h++) {
      const s = (14 + h) % 7 === 0 ? s0 : p[(14 + h) % 7];
      expect(f[h - 1]).toBeCloseTo(level + h * trend + s, 9);
    }
  });

  it('given less than two weeks, then it refuses', () => {
    expect(() => holtWinters([1, 2, 3], 1)).toThrow(RangeError);
  });

  it('given a steep fall, then the forecast is never below zero', () => {
    const history = Array.from({ length: 14 }, (_, t) => Math.max(0, 100 - 10 * t));
    expect(Math.min(...holtWinters(history, 14))).toBe(0);
  });
});
