import {
  CollectionSpec,
  Document,
  Projection,
  ReadStore,
  RecordedEvent,
  UpdateOp,
  formatNanos,
  padPosition,
  toNanos,
} from '@purser/core';
import type { UsageRecorded } from '@purser/usage';

export const INSIGHT_SERIES_PROJECTION = 'insight-series';
/** One document per org, entity and UTC day: the day's 24 hourly buckets. */
export const SERIES_DAYS = 'insight_series_days';
/** One document per org and entity: what is known about its series (zone, first day, calls per currency). */
export const SERIES_ENTITIES = 'insight_series_entities';

export const ENTITY_TYPES = ['org', 'team', 'user', 'item'] as const;
export type EntityType = (typeof ENTITY_TYPES)[number];

/** An entity's key in the series: `org`, `team:<id>`, `user:<id>`, `item:<itemType>:<itemId>`. */
export const entityKey = (type: EntityType, id: string) => (type === 'org' ? 'org' : `${type}:${id}`);
export const seriesDayId = (orgId: string, entity: string, day: string) => `${orgId}|${entity}|${day}`;
export const seriesEntityId = (orgId: string, entity: string) => `${orgId}|${entity}`;

/** One UTC hour of one entity: exact cost per currency (decimal strings) and the number of calls. */
export interface HourCell {
  a: Record<string, string>;
  n: number;
}

export interface SeriesDayDoc extends Document {
  orgId: string;
  entity: string;
  /** The UTC day, YYYY-MM-DD. */
  day: string;
  /** UTC hour "00".."23" -> its cell. */
  hours: Record<string, HourCell>;
  _pos: string;
}

export interface SeriesEntityDoc extends Document {
  orgId: string;
  entity: string;
  entityType: EntityType;
  entityId: string;
  /** The org's time zone as the latest usage of the entity carried it. */
  timeZone: string;
  /** The first UTC day with usage. */
  firstDay: string;
  /** currency -> number of calls. */
  calls: Record<string, number>;
  _pos: string;
}

/** The entities a usage counts for: the org, every team of its path, the user and the item. */
function entitiesOf(d: UsageRecorded['data']): Array<{ type: EntityType; id: string }> {
  return [
    { type: 'org', id: d.orgId },
    ...d.teamPath.map((t) => ({ type: 'team' as const, id: t })),
    { type: 'user', id: d.userId },
    { type: 'item', id: `${d.itemType}:${d.itemId}` },
  ];
}

interface DayDelta {
  orgId: string;
  entity: string;
  day: string;
  hours: Map<string, { a: Map<string, bigint>; n: number }>;
  lastPos: bigint;
}
interface EntityDelta {
  orgId: string;
  entity: string;
  type: EntityType;
  id: string;
  timeZone: string;
  firstDay: string;
  calls: Map<string, number>;
  lastPos: bigint;
}

/**
 * Hourly series (UTC hour buckets) of cost in each record's own currency and of calls, per org, team (a team's
 * series includes its sub-teams: the usage counts for every team of its path), user and item. Sums are exact
 * (bigint nano-units, stored as decimal strings). Each document remembers the last position it applied (`_pos`): an
 * event at or below it is skipped, and every write is conditioned on the version read, so a redelivered batch
 * changes nothing and a concurrent writer fails the batch (which is then delivered again).
 */
export class InsightSeriesProjection implements Projection {
  readonly name = INSIGHT_SERIES_PROJECTION;
  readonly filter = { eventTypes: ['UsageRecorded'] };
  readonly collections: CollectionSpec[] = [
    { name: SERIES_DAYS, arrays: [], indexes: [{ fields: { orgId: 1, entity: 1, day: 1 } }] },
    { name: SERIES_ENTITIES, arrays: [] },
  ];

  async handle(events: RecordedEvent[], store: ReadStore): Promise<void> {
    const typed = (events as RecordedEvent<UsageRecorded>[]).filter((e) => e.type === 'UsageRecorded');
    if (!typed.length) return;
    const dayIds = new Set<string>();
    const entityIds = new Set<string>();
    for (const e of typed) {
      const day = utcDay(e.data.occurredAt)!;
      for (const { type, id } of entitiesOf(e.data)) {
        const key = entityKey(type, id);
        dayIds.add(seriesDayId(e.data.orgId, key, day));
        entityIds.add(seriesEntityId(e.data.orgId, key));
      }
    }
    const days = new Map(
      (await store.getMany<SeriesDayDoc>(SERIES_DAYS, [...dayIds])).map((d) => [d._id, d]),
    );
    const ents = new Map(
      (await store.getMany<SeriesEntityDoc>(SERIES_ENTITIES, [...entityIds])).map((d) => [d._id, d]),
    );
    const dayDeltas = new Map<string, DayDelta>();
    const entDeltas = new Map<string, EntityDelta>();
    for (const e of typed) {
      const d = e.data;
      const pos = padPosition(e.position);
      const day = utcDay(d.occurredAt)!;
      const hour = utcHour(d.occurredAt)!;
      const nanos = toNanos(d.amount);
      for (const { type, id } of entitiesOf(d)) {
        const key = entityKey(type, id);
        const dayId = seriesDayId(d.orgId, key, day);
        if ((days.get(dayId)?._pos ?? '') < pos) {
          let dd = dayDeltas.get(dayId);
          if (!dd)
            dayDeltas.set(dayId, (dd = { orgId: d.orgId, entity: key, day, hours: new Map(), lastPos: -1n }));
          let cell = dd.hours.get(hour);
          if (!cell) dd.hours.set(hour, (cell = { a: new Map(), n: 0 }));
          cell.a.set(d.currency, (cell.a.get(d.currency) ?? 0n) + nanos);
          cell.n++;
          dd.lastPos = e.position;
        }
        const entId = seriesEntityId(d.orgId, key);
        if ((ents.get(entId)?._pos ?? '') < pos) {
          let ed = entDeltas.get(entId);
          if (!ed)
            entDeltas.set(
              entId,
              (ed = {
                orgId: d.orgId,
                entity: key,
                type,
                id,
                timeZone: d.timeZone,
                firstDay: day,
                calls: new Map(),
                lastPos: -1n,
              }),
            );
          ed.timeZone = d.timeZone;
          if (day < ed.firstDay) ed.firstDay = day;
          ed.calls.set(d.currency, (ed.calls.get(d.currency) ?? 0) + 1);
          ed.lastPos = e.position;
        }
      }
    }
    const dayOps: UpdateOp[] = [...dayDeltas].map(([id, dd]) => {
      const prev = days.get(id);
      const hours: Record<string, HourCell> = { ...(prev?.hours ?? {}) };
      for (const [h, cell] of dd.hours) {
        const before = hours[h] ?? { a: {}, n: 0 };
        const a = { ...before.a };
        for (const [c, v] of cell.a) a[c] = formatNanos(toNanos(a[c] ?? '0') + v);
        hours[h] = { a, n: before.n + cell.n };
      }
      return {
        id,
        update: {
          $set: { orgId: dd.orgId, entity: dd.entity, day: dd.day, hours, _pos: padPosition(dd.lastPos) },
        },
        options: { upsert: true, guard: prev ? { _pos: prev._pos } : { _pos: { $exists: false } } },
      };
    });
    const entOps: UpdateOp[] = [...entDeltas].map(([id, ed]) => {
      const prev = ents.get(id);
      const calls = { ...(prev?.calls ?? {}) };
      for (const [c, n] of ed.calls) calls[c] = (calls[c] ?? 0) + n;
      return {
        id,
        update: {
          $set: {
            orgId: ed.orgId,
            entity: ed.entity,
            entityType: ed.type,
            entityId: ed.id,
            timeZone: ed.timeZone,
            firstDay: prev && prev.firstDay < ed.firstDay ? prev.firstDay : ed.firstDay,
            calls,
            _pos: padPosition(ed.lastPos),
          },
        },
        options: { upsert: true, guard: prev ? { _pos: prev._pos } : { _pos: { $exists: false } } },
      };
    });
    for (const [collection, ops] of [
      [SERIES_DAYS, dayOps],
      [SERIES_ENTITIES, entOps],
    ] as const) {
      if (!ops.length) continue;
      const results = await store.bulkUpdate(collection, ops);
      const stale = results.findIndex((r) => !r.matched && !r.upserted);
      if (stale >= 0)
        throw new Error(
          `insight series document ${ops[stale].id} changed under the projection (another writer?); delivering the batch again`,
        );
    }
  }
}

/** The UTC day (YYYY-MM-DD) and hour ("00".."23") of an instant. */
export function utcDay(instant: string): string | null {
  const ms = Date.parse(instant);
  return Number.isNaN(ms) ? null : new Date(ms).toISOString().slice(0, 10);
}
export function utcHour(instant: string): string | null {
  const ms = Date.parse(instant);
  return Number.isNaN(ms) ? null : new Date(ms).toISOString().slice(11, 13);
}
