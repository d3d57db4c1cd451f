import { Anomaly, choose, dailyTotals, detect, forecastTotal, seasonalNaive } from '@purser/insight';
import { Random } from '../lib/random';
import { Suite, TargetCheck, atLeast } from '../lib/suite';
import { round, stopwatch } from '../lib/timing';

/**
 * Forecast quality, anomaly detection and forecast cost on synthetic usage (no server: the forecasters and the
 * detector are pure). A year of hourly spend per series from a fixed seed: weekday office hours and quiet weekends,
 * a linear trend, company holidays (a tenth of the usual) and injected spikes (a few hours at 3-8x plus 20).
 *
 * - Quality: at 8 weekly origins over the last 8 weeks, the 7-day total by the chosen forecaster against the
 *   classic seasonal naive (the same weekday a week before); relMae = sum |error chosen| / sum |error seasonal
 *   naive| (a MASE scaled by the seasonal naive), target < 1.
 * - Anomalies: detect() on each hourly series; a detection is right when its day holds an injected spike;
 *   precision and recall against the injected ones.
 * - Cost: forecastTotal (backtest of three methods, intervals) over N daily series of a year (10,000 at scale 1),
 *   against the seasonal naive alone over the same series (the floor).
 */

const DAY_HOURS = 24;
const YEAR_DAYS = 364; // 52 whole weeks
const START = Date.UTC(2025, 0, 6); // a Monday
const HOLIDAYS = [0, 52, 110, 111, 151, 200, 250, 305, 350, 351];
const SPIKES_PER_SERIES = 3;
const EVAL_ORIGINS = 8;
const EVAL_HORIZON = 7;

interface Synthetic {
  hourly: number[];
  spikeDays: Set<number>;
}

/** A year of hourly spend for one series. */
function hourlySeries(r: Random): Synthetic {
  const peak = 5 + r.next() * 45;
  const growth = r.next() * 0.6;
  const values: number[] = [];
  for (let d = 0; d < YEAR_DAYS; d++) {
    const weekday = d % 7; // 0 = Monday
    const holiday = HOLIDAYS.includes(d) ? 0.1 : 1;
    const trend = 1 + (growth * d) / YEAR_DAYS;
    for (let h = 0; h < DAY_HOURS; h++) {
      const office = weekday < 5 && h >= 8 && h < 19;
      const base = office ? peak : weekday < 5 ? peak * 0.1 : peak * 0.05;
      const noise = 1 + 0.15 * (r.next() + r.next() + r.next() - 1.5);
      values.push(Math.max(0, base * trend * holiday * noise));
    }
  }
  const spikeDays = new Set<number>();
  while (spikeDays.size < SPIKES_PER_SERIES) {
    const d = r.int(70, YEAR_DAYS - 1);
    if (HOLIDAYS.includes(d) || spikeDays.has(d)) continue;
    spikeDays.add(d);
    const h = r.int(0, 23);
    const hours = r.int(1, 3);
    const factor = 3 + r.next() * 5;
    for (let i = h; i < Math.min(DAY_HOURS, h + hours); i++)
      values[d * DAY_HOURS + i] = values[d * DAY_HOURS + i] * factor + 20;
  }
  return { hourly: values, spikeDays };
}

/** A year of daily spend (for the cost run: the same shape, generated per day). */
function dailySeries(r: Random): number[] {
  const level = 50 + r.next() * 500;
  const growth = r.next() * 0.6;
  return Array.from({ length: YEAR_DAYS }, (_, d) => {
    const weekday = d % 7;
    const holiday = HOLIDAYS.includes(d) ? 0.1 : 1;
    return (
      level *
      (weekday < 5 ? 1 : 0.2) *
      (1 + (growth * d) / YEAR_DAYS) *
      holiday *
      (1 + 0.15 * (r.next() - 0.5))
    );
  });
}

const sum = (xs: readonly number[]) => xs.reduce((s, v) => s + v, 0);

function below(actual: number, max: number): TargetCheck {
  return { target: `< ${max}`, actual, pass: actual < max };
}

export const insightForecastSuite: Suite = {
  name: 'insight-forecast',
  description:
    'Forecast quality (relative MAE of the chosen forecaster against seasonal naive), anomaly precision and recall on injected spikes, and the cost of forecasting N series against the seasonal naive alone',
  async run(ctx) {
    const qualitySeries = ctx.count(200, 10);
    const costSeries = ctx.count(10_000, 100);
    const r = new Random(20261206);

    ctx.log(`insight-forecast: ${qualitySeries} hourly series of a year`);
    let chosenAbs = 0;
    let naiveAbs = 0;
    let insampleScale = 0;
    let evaluations = 0;
    const methods: Record<string, number> = {};
    let injected = 0;
    let found = 0;
    let detections = 0;
    let rightDetections = 0;
    const byMethod: Record<string, number> = {};
    for (let s = 0; s < qualitySeries; s++) {
      const { hourly, spikeDays } = hourlySeries(r);
      const daily = dailyTotals(hourly);
      let scale = 0;
      for (let t = 7; t < daily.length - EVAL_ORIGINS * 7; t++) scale += Math.abs(daily[t] - daily[t - 7]);
      scale /= daily.length - EVAL_ORIGINS * 7 - 7;
      for (let k = EVAL_ORIGINS; k >= 1; k--) {
        const origin = daily.length - k * 7;
        const history = daily.slice(0, origin);
        const actual = sum(daily.slice(origin, origin + EVAL_HORIZON));
        const best = choose(history, EVAL_HORIZON);
        methods[best.method] = (methods[best.method] ?? 0) + 1;
        chosenAbs += Math.abs(actual - sum(best.forecast(history, EVAL_HORIZON)));
        naiveAbs += Math.abs(actual - sum(seasonalNaive(history, EVAL_HORIZON, 1)));
        insampleScale += scale * EVAL_HORIZON;
        evaluations++;
      }
      const anomalies: Anomaly[] = detect({ start: new Date(START).toISOString(), values: hourly });
      const days = new Set<number>();
      for (const a of anomalies) {
        const d = Math.floor((Date.parse(a.at) - START) / 86_400_000);
        detections++;
        byMethod[a.method] = (byMethod[a.method] ?? 0) + 1;
        if (spikeDays.has(d)) {
          rightDetections++;
          days.add(d);
        }
      }
      injected += spikeDays.size;
      found += days.size;
    }
    const relMae = chosenAbs / naiveAbs;
    const precision = detections ? rightDetections / detections : 1;
    const recall = injected ? found / injected : 1;

    ctx.log(`insight-forecast: forecasting ${costSeries} daily series`);
    const series = Array.from({ length: costSeries }, () => dailySeries(r));
    let checksum = 0;
    const floorTime = stopwatch();
    for (const y of series) checksum += sum(seasonalNaive(y, EVAL_HORIZON, 1));
    const floorMs = floorTime();
    const fullTime = stopwatch();
    for (const y of series) checksum += forecastTotal(y, EVAL_HORIZON).expected;
    const fullMs = fullTime();

    return {
      figures: {
        qualitySeries,
        evaluations,
        relMaeVsSeasonalNaive: round(relMae, 4),
        maseChosen: round(chosenAbs / insampleScale, 4),
        maseSeasonalNaive: round(naiveAbs / insampleScale, 4),
        methodsChosen: methods,
        anomalies: {
          injected,
          found,
          detections,
          rightDetections,
          byMethod,
          precision: round(precision, 4),
          recall: round(recall, 4),
        },
        cost: {
          series: costSeries,
          horizonDays: EVAL_HORIZON,
          forecastMs: round(fullMs, 1),
          seasonalNaiveFloorMs: round(floorMs, 1),
          perSeriesUs: round((fullMs * 1000) / costSeries, 1),
          timesFloor: round(fullMs / Math.max(floorMs, 1e-6), 1),
          checksum: round(checksum, 0),
        },
      },
      targets: {
        relMaeVsSeasonalNaive: below(round(relMae, 4), 1),
        anomalyPrecision: atLeast(round(precision, 4), 0.8),
        anomalyRecall: atLeast(round(recall, 4), 0.8),
        forecastPerSeriesUs: below(round((fullMs * 1000) / costSeries, 1), 1000),
      },
    };
  },
};
