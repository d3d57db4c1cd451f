import { EWMA_DAYS, MIN_ABSOLUTE_IMPACT, detect, robustZ } from './detect';

// A deterministic generator (no Math.random in a spec): noise in [-1, 1).
function noise(seed: number) {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return (s / 2 ** 32) * 2 - 1;
  };
}

const START = '2026-01-05T00:00:00.000Z'; // a Monday
/** Ten weeks of hourly spend: busy weekday office hours (about 20 an hour), quiet nights and weekends. */
function weeks(n = 10, jitter = 0.1, seed = 7): number[] {
  const r = noise(seed);
  return Array.from({ length: n * 168 }, (_, t) => {
    const day = Math.floor(t / 24) % 7;
    const hour = t % 24;
    const base = day < 5 && hour >= 9 && hour < 18 ? 20 : 2;
    return base * (1 + jitter * r());
  });
}

describe('unusual activity', () => {
  it('given the robust z-score formula, then (x - median) / (1.4826 MAD)', () => {
    // median 3, deviations 2,1,0,1,2 -> MAD 1
    expect(robustZ(10, [1, 2, 3, 4, 5])).toEqual({ median: 3, score: 7 / 1.4826 });
  });

  it('given an injected spike of 200 in one office hour of week 9, then it is found at that hour by the hour-of-week detector', () => {
    const values = weeks();
    const t = 8 * 168 + 2 * 24 + 14; // Wednesday 14:00 of week 9
    values[t] += 200;
    const found = detect({ start: START, values });
    const hourly = found.filter((a) => a.method === 'hour-of-week');
    expect(hourly).toHaveLength(1);
    expect(hourly[0]).toMatchObject({ at: '2026-03-04T14:00:00.000Z', method: 'hour-of-week' });
    expect(hourly[0].actual).toBeCloseTo(values[t], 9);
    expect(hourly[0].impact).toBeGreaterThan(180);
    expect(hourly[0].window.points).toBe(8);
    // The day's total (about 200 over some 190) is found too, and nothing else.
    expect(found.map((a) => a.at.slice(0, 10))).toEqual(found.map(() => '2026-03-04'));
  });

  it('given small noise only (10 % jitter on 2 to 20 an hour), then nothing alerts', () => {
    expect(detect({ start: START, values: weeks(10, 0.1, 11) })).toEqual([]);
  });

  it('given a rise below the absolute minimum impact, then it does not alert however unusual it is', () => {
    const values = Array.from({ length: 10 * 168 }, () => 0.01);
    values[9 * 168 + 5] = 0.01 + MIN_ABSOLUTE_IMPACT / 2; // 50x the usual, but under one unit
    expect(detect({ start: START, values })).toEqual([]);
  });

  it('given a slow drift (spend creeping up 4 % a day after week 8), then the EWMA chart alerts, and only after the drift began', () => {
    const values = weeks(14, 0.1, 3).map((v, t) => {
      const day = Math.floor(t / 24);
      return day >= 56 ? v * (1 + 0.04 * (day - 56)) : v;
    });
    const drift = detect({ start: START, values }).filter((a) => a.method === 'ewma');
    expect(drift.length).toBeGreaterThan(0);
    for (const a of drift) expect(Date.parse(a.at)).toBeGreaterThan(Date.parse(START) + 56 * 86_400_000);
    expect(drift[0].window.points).toBe(EWMA_DAYS);
    expect(drift[0].impact).toBeGreaterThan(0);
    // The same weeks without the drift: no EWMA alert.
    expect(detect({ start: START, values: weeks(14, 0.1, 3) }).filter((a) => a.method === 'ewma')).toEqual(
      [],
    );
  });
});
