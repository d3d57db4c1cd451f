import { Inject, Injectable } from '@nestjs/common';
import {
  Clock,
  Grain,
  NotFoundError,
  READ_STORE,
  ReadStore,
  RuleViolationError,
  formatNanos,
  orgNotFound,
  periodBounds,
  periodKeys,
  toNanos,
} from '@purser/core';
import { DirectoryLookup } from '@purser/directory';
import { CLOCK } from '@purser/platform';
import { forecastTotal, historyNeeded } from './forecast/backtest';
import { moneyString } from './money-view';
import {
  EntityType,
  SERIES_DAYS,
  SERIES_ENTITIES,
  SeriesDayDoc,
  SeriesEntityDoc,
  entityKey,
  seriesEntityId,
} from './series.projection';

export type Horizon = 'day' | 'week' | 'month';
export const HORIZONS = ['day', 'week', 'month'] as const satisfies readonly Grain[];
/** The history a forecast reads at most: a year and a bit (enough for every method and the backtest). */
export const MAX_HISTORY_DAYS = 400;
const DAY_MS = 86_400_000;

export interface ForecastView {
  orgId: string;
  entityType: EntityType;
  entityId: string;
  horizon: Horizon;
  currency: string;
  timeZone: string;
  period: { key: string; start: string; end: string; remainingDays: number };
  actualToDate: string;
  method: string;
  backtestMae: string;
  expected: string;
  interval80: { low: string; high: string };
  interval95: { low: string; high: string };
  history: { days: number; from: string | null; to: string | null };
}

/** YYYY-MM-DD of a calendar day, one day on. */
const nextDay = (day: string) => new Date(Date.parse(`${day}T00:00:00Z`) + DAY_MS).toISOString().slice(0, 10);
const daysBetween = (a: string, b: string) =>
  Math.round((Date.parse(`${b}T00:00:00Z`) - Date.parse(`${a}T00:00:00Z`)) / DAY_MS);

/**
 * Spend forecasts from the insight series: the entity's daily spend in its main currency (the one most of its calls
 * were in) over the local days of the org's zone, up to yesterday; the forecaster chosen by backtest; the period's
 * total = what the period's complete days spent (exact) + the forecast of today and the days left.
 */
@Injectable()
export class ForecastQueries {
  constructor(
    @Inject(READ_STORE) private readonly store: ReadStore,
    @Inject(CLOCK) private readonly clock: Clock,
    private readonly directory: DirectoryLookup,
  ) {}

  private async entity(orgId: string, type: EntityType, id: string): Promise<SeriesEntityDoc | null> {
    if (!(await this.directory.org(orgId))) throw orgNotFound(orgId);
    const unknown = () =>
      new NotFoundError(`${type} ${id} not found in org ${orgId}`, [
        { field: 'entityId', problem: 'unknown' },
      ]);
    if (type === 'org' && id !== orgId) throw unknown();
    if (type === 'team' && !(await this.directory.team(orgId, id))) throw unknown();
    if (type === 'user' && (await this.directory.user(id))?.orgId !== orgId) throw unknown();
    const doc = await this.store.get<SeriesEntityDoc>(
      SERIES_ENTITIES,
      seriesEntityId(orgId, entityKey(type, id)),
    );
    // An item is known by its usage alone.
    if (type === 'item' && !doc) throw unknown();
    return doc;
  }

  async forecast(orgId: string, type: EntityType, id: string, horizon: Horizon): Promise<ForecastView> {
    const entity = await this.entity(orgId, type, id);
    const org = await this.store.get<SeriesEntityDoc>(SERIES_ENTITIES, seriesEntityId(orgId, 'org'));
    const now = this.clock.now().getTime();
    const timeZone = org?.timeZone ?? 'UTC';
    const today = periodKeys(now, timeZone).day;
    const bounds = periodBounds(horizon, now, timeZone);
    const periodFirst = periodKeys(bounds.start, timeZone).day;
    const periodLast = periodKeys(Date.parse(bounds.end) - 1, timeZone).day;
    const remainingDays = daysBetween(today, periodLast) + 1;
    const needed = historyNeeded(remainingDays);
    const currency = entity ? mainCurrency(entity.calls) : null;
    const daily =
      entity && currency ? await this.daily(orgId, entity.entity, currency, timeZone, now) : new Map();
    const first = [...daily.keys()].filter((d) => d < today).sort()[0] as string | undefined;
    const days: string[] = [];
    for (let d = first; d && d < today; d = nextDay(d)) days.push(d);
    if (!currency || days.length < needed)
      throw new RuleViolationError(
        `a ${horizon} forecast needs ${needed} days of history before today, the ${type} has ${days.length}`,
        [{ field: 'history', problem: 'too little history', needed, days: days.length }],
      );
    const history = days.map((d) => Number(daily.get(d) ?? 0n) / 1e9);
    let actual = 0n;
    for (const d of days) if (d >= periodFirst) actual += daily.get(d) ?? 0n;
    const f = forecastTotal(history, remainingDays);
    const shown = (v: number) => formatNanos(actual + toNanos(moneyString(v)));
    const band = (i: { low: number; high: number }) => ({ low: shown(i.low), high: shown(i.high) });
    return {
      orgId,
      entityType: type,
      entityId: id,
      horizon,
      currency,
      timeZone,
      period: { key: bounds.key, start: bounds.start, end: bounds.end, remainingDays },
      actualToDate: formatNanos(actual),
      method: f.method,
      backtestMae: moneyString(f.backtestMae),
      expected: shown(f.expected),
      interval80: band(f.interval80),
      interval95: band(f.interval95),
      history: { days: days.length, from: days[0] ?? null, to: days[days.length - 1] ?? null },
    };
  }

  /** Exact spend per local day (nano-units) in one currency, from the UTC hours of the series. */
  private async daily(
    orgId: string,
    entity: string,
    currency: string,
    timeZone: string,
    now: number,
  ): Promise<Map<string, bigint>> {
    const from = new Date(now - MAX_HISTORY_DAYS * DAY_MS).toISOString().slice(0, 10);
    const out = new Map<string, bigint>();
    let cursor: string | null = null;
    do {
      const page: { items: SeriesDayDoc[]; nextCursor: string | null } = await this.store.find<SeriesDayDoc>(
        SERIES_DAYS,
        { orgId, entity, day: { $gte: from } },
        { sort: { day: 1 }, limit: 500, cursor },
      );
      for (const doc of page.items)
        for (const [hour, cell] of Object.entries(doc.hours)) {
          const amount = cell.a[currency];
          if (amount === undefined) continue;
          // An hour counts for the local day it starts in (exact for zones with whole-hour offsets).
          const day = periodKeys(Date.parse(`${doc.day}T${hour}:00:00Z`), timeZone).day;
          out.set(day, (out.get(day) ?? 0n) + toNanos(amount));
        }
      cursor = page.nextCursor;
    } while (cursor);
    return out;
  }
}

/** The currency most calls were in (ties: the first in code order). */
function mainCurrency(calls: Record<string, number>): string | null {
  let best: string | null = null;
  for (const [c, n] of Object.entries(calls).sort(([a], [b]) => (a < b ? -1 : 1)))
    if (best === null || n > calls[best]) best = c;
  return best;
}
