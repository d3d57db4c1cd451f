import Database from 'better-sqlite3';
import { join } from 'node:path';
import {
  CollectionSpec,
  EventFilter,
  EventRegistry,
  Logger,
  Projection,
  ProjectionRunner,
  ReadStore,
  RecordedEvent,
  UpdateOp,
  padPosition,
  positionGuard,
} from '@purser/core';
import { SqliteEventStore, SqliteReadStore } from '@purser/engines';
import { Suite, SuiteContext, atLeast, equals } from '../lib/suite';
import { perSecond, round, stopwatch } from '../lib/timing';
import { MODELS, USAGE_RECORDED, UsageFixture, UsageRecordedData, parseMicros } from '../lib/usage';

const FILL_BATCH = 1000;
/** ProjectionRunner.rebuild reads $all in batches of 5000 by default; the scans use the same size. */
const READ_BATCH = 5000;
const USERS = 1000;
/** Usage density kept constant at any --scale: the full 1,000,000 events span 30 days (~33 per user per day). */
const EVENTS_PER_DAY = 1_000_000 / 30;
const DAILY = 'bench_usage_user_daily';

export interface UserDailyDoc {
  _id: string;
  orgId: string;
  userId: string;
  teamId: string;
  /** UTC day, YYYY-MM-DD. */
  day: string;
  currency: string;
  events: number;
  inputTokens: number;
  outputTokens: number;
  /** Exact integer micro-units of `currency`. */
  amountMicros: number;
  byModel: Record<string, { events: number; amountMicros: number }>;
  lastEventAt: string;
  _pos: string;
}

interface Aggregate {
  id: string;
  data: UsageRecordedData;
  day: string;
  first: bigint;
  last: bigint;
  lastEventAt: string;
  events: number;
  inputTokens: number;
  outputTokens: number;
  amountMicros: number;
  byModel: Map<string, { events: number; amountMicros: number }>;
}

const dailyId = (d: UsageRecordedData, day: string) => `${d.userId}:${day}:${d.currency}`;

/**
 * A realistic read model: usage totals per user per UTC day (and per model), in exact micro-units. Each batch is
 * aggregated in memory, then every touched document gets one upsert, guarded by `_pos` against the first position
 * aggregated into it: if the document has seen none of these events, the whole aggregate applies. A document that
 * has seen some of them (a redelivered, differently cut batch) takes the slow path: read it, re-aggregate only the
 * events past its `_pos`, and compare-and-set on that `_pos`.
 */
export class UserDailyUsageProjection implements Projection {
  readonly name = 'bench-usage-user-daily';
  readonly filter: EventFilter = { eventTypes: [USAGE_RECORDED] };
  readonly collections: CollectionSpec[] = [
    { name: DAILY, indexes: [{ fields: { orgId: 1, day: 1 } }, { fields: { userId: 1, day: 1 } }] },
  ];
  readonly stats = { batches: 0, aggregateMs: 0, writeMs: 0, documentWrites: 0, slowPath: 0 };

  async handle(events: RecordedEvent[], store: ReadStore): Promise<void> {
    const aggregating = stopwatch();
    const aggregates = aggregate(events);
    const ops: UpdateOp[] = [];
    for (const a of aggregates.values()) ops.push(upsertOp(a));
    this.stats.aggregateMs += aggregating();
    const writing = stopwatch();
    const results = await store.bulkUpdate(DAILY, ops);
    for (let i = 0; i < results.length; i++) {
      if (!results[i].matched && !results[i].upserted) await this.slowPath(ops[i].id, events, store);
    }
    this.stats.writeMs += writing();
    this.stats.batches++;
    this.stats.documentWrites += ops.length;
  }

  private async slowPath(id: string, events: RecordedEvent[], store: ReadStore): Promise<void> {
    this.stats.slowPath++;
    for (let attempt = 0; attempt < 10; attempt++) {
      const doc = await store.get<UserDailyDoc>(DAILY, id);
      if (!doc) throw new Error(`${DAILY}/${id} vanished during a projection`);
      const seen = BigInt(doc._pos);
      const rest = events.filter((e) => e.position > seen && idOf(e) === id);
      if (rest.length === 0) return;
      const a = aggregate(rest).get(id)!;
      const op = upsertOp(a);
      const res = await store.update(DAILY, id, op.update, { guard: { _pos: doc._pos } });
      if (res.matched) return;
    }
    throw new Error(`${DAILY}/${id}: compare-and-set kept failing`);
  }
}

function dayOf(e: RecordedEvent): string {
  return e.metadata.occurredAt.slice(0, 10);
}

function idOf(e: RecordedEvent): string {
  return dailyId(e.data as UsageRecordedData, dayOf(e));
}

function aggregate(events: RecordedEvent[]): Map<string, Aggregate> {
  const out = new Map<string, Aggregate>();
  for (const e of events) {
    if (e.type !== USAGE_RECORDED) continue;
    const d = e.data as UsageRecordedData;
    const day = dayOf(e);
    const id = dailyId(d, day);
    let a = out.get(id);
    if (!a) {
      a = {
        id,
        data: d,
        day,
        first: e.position,
        last: e.position,
        lastEventAt: e.metadata.occurredAt,
        events: 0,
        inputTokens: 0,
        outputTokens: 0,
        amountMicros: 0,
        byModel: new Map(),
      };
      out.set(id, a);
    }
    const micros = parseMicros(d.amount);
    a.last = e.position;
    if (e.metadata.occurredAt > a.lastEventAt) a.lastEventAt = e.metadata.occurredAt;
    a.events++;
    a.inputTokens += d.inputTokens;
    a.outputTokens += d.outputTokens;
    a.amountMicros += micros;
    let m = a.byModel.get(d.model);
    if (!m) a.byModel.set(d.model, (m = { events: 0, amountMicros: 0 }));
    m.events++;
    m.amountMicros += micros;
  }
  return out;
}

function upsertOp(a: Aggregate): UpdateOp {
  const inc: Record<string, number> = {
    events: a.events,
    inputTokens: a.inputTokens,
    outputTokens: a.outputTokens,
    amountMicros: a.amountMicros,
  };
  for (const [model, m] of a.byModel) {
    inc[`byModel.${model}.events`] = m.events;
    inc[`byModel.${model}.amountMicros`] = m.amountMicros;
  }
  return {
    id: a.id,
    update: {
      $setOnInsert: {
        orgId: a.data.orgId,
        userId: a.data.userId,
        teamId: a.data.teamId,
        day: a.day,
        currency: a.data.currency,
      },
      $inc: inc,
      $max: { lastEventAt: a.lastEventAt },
      $set: { _pos: padPosition(a.last) },
    },
    options: { upsert: true, guard: positionGuard(a.first) },
  };
}

const silent: Logger = { info: () => undefined, warn: () => undefined, error: () => undefined };

/** Sums the read model, to check the rebuild against the fixture's totals. */
async function readModelTotals(store: ReadStore) {
  const totals = { documents: 0, events: 0, amountMicros: 0, modelEvents: 0 };
  let cursor: string | null | undefined;
  do {
    const page = await store.find<UserDailyDoc>(DAILY, {}, { limit: 10_000, cursor });
    for (const d of page.items) {
      totals.documents++;
      totals.events += d.events;
      totals.amountMicros += d.amountMicros;
      for (const m of MODELS) totals.modelEvents += d.byModel[m]?.events ?? 0;
    }
    cursor = page.nextCursor;
  } while (cursor);
  return totals;
}

/** The event store's own readAll, batch after batch, doing nothing with the events. */
async function scanReadAll(events: SqliteEventStore, filter: EventFilter | undefined) {
  const head = await events.headPosition();
  let after = -1n;
  let count = 0;
  const elapsed = stopwatch();
  while (after < head) {
    const batch = await events.readAll({ after, maxCount: READ_BATCH, filter });
    if (batch.checkpoint <= after) break;
    count += batch.events.length;
    after = batch.checkpoint;
  }
  return { count, ms: elapsed() };
}

/** The same rows straight from SQLite: the floor under readAll, with and without JSON.parse of data and metadata. */
function scanSql(path: string, parse: boolean) {
  const db = new Database(path, { readonly: true });
  try {
    const stmt = db.prepare<[number, number], { position: number; data: string; metadata: string }>(
      'SELECT position, stream_id, revision, type, data, metadata FROM events WHERE position > ? ORDER BY position LIMIT ?',
    );
    let after = 0;
    let count = 0;
    let sink = 0;
    const elapsed = stopwatch();
    for (;;) {
      const rows = stmt.all(after, READ_BATCH);
      if (rows.length === 0) break;
      if (parse)
        for (const r of rows) sink += JSON.parse(r.data).inputTokens + JSON.parse(r.metadata).schemaVersion;
      count += rows.length;
      after = rows[rows.length - 1].position;
    }
    const ms = elapsed();
    return { count, ms, sink };
  } finally {
    db.close();
  }
}

async function fill(ctx: SuiteContext, events: SqliteEventStore, fixture: UsageFixture, total: number) {
  const elapsed = stopwatch();
  let lastLog = 0;
  for (let done = 0, b = 0; done < total; b++) {
    const n = Math.min(FILL_BATCH, total - done);
    await events.append(`usage-${fixture.orgId}-${b}`, fixture.take(n), 'no_stream');
    done += n;
    if (done - lastLog >= total / 10 || done === total) {
      lastLog = done;
      ctx.log(`replay: filled ${done}/${total}`);
    }
  }
  return elapsed();
}

export const replaySuite: Suite = {
  name: 'replay',
  description:
    'ProjectionRunner.rebuild of a per-user-per-day usage read model (SqliteEventStore -> SqliteReadStore)',
  async run(ctx) {
    const total = ctx.count(1_000_000);
    const eventsPath = join(ctx.dir, 'events.db');
    const fixture = new UsageFixture({ users: USERS, teams: 100, total, spanDays: total / EVENTS_PER_DAY });
    const events = new SqliteEventStore(eventsPath);
    const reads = new SqliteReadStore(join(ctx.dir, 'read.db'));
    try {
      const fillMs = await fill(ctx, events, fixture, total);
      const projection = new UserDailyUsageProjection();

      ctx.log('replay: scanning (baselines)');
      const sqlRows = scanSql(eventsPath, false);
      const sqlParsed = scanSql(eventsPath, true);
      const unfiltered = await scanReadAll(events, undefined);
      const filtered = await scanReadAll(events, projection.filter);

      ctx.log('replay: rebuilding the projection');
      const registry = new EventRegistry().register(USAGE_RECORDED, 1);
      const runner = new ProjectionRunner(events, reads, registry, [projection], silent);
      await runner.prepare();
      let lastLog = 0;
      const elapsed = stopwatch();
      const result = await runner.rebuild(projection.name, (p) => {
        if (p.handled - lastLog >= total / 10) {
          lastLog = p.handled;
          ctx.log(`replay: rebuilt ${p.handled}/${total}`);
        }
      });
      const rebuildMs = elapsed();
      await runner.stop();

      const rebuildRate = perSecond(result.handled, rebuildMs);
      const model = await readModelTotals(reads);
      const checkpoint = await runner.checkpoints.get(projection.name);
      const s = projection.stats;
      return {
        figures: {
          events: total,
          users: USERS,
          spanDays: round(total / EVENTS_PER_DAY, 2),
          fill: {
            eventsPerAppend: FILL_BATCH,
            eventsPerSec: perSecond(total, fillMs),
            note: 'setup, not a target',
          },
          rebuild: {
            eventsHandled: result.handled,
            ms: round(rebuildMs, 1),
            eventsPerSec: rebuildRate,
            readBatch: READ_BATCH,
            batches: s.batches,
            documentWrites: s.documentWrites,
            documents: model.documents,
            slowPathWrites: s.slowPath,
            breakdownMs: {
              aggregateAndBuildOps: round(s.aggregateMs, 1),
              bulkUpdate: round(s.writeMs, 1),
              readAllUpcastAndCheckpoints: round(rebuildMs - s.aggregateMs - s.writeMs, 1),
            },
          },
          baselines: {
            readAllFilteredEventsPerSec: perSecond(filtered.count, filtered.ms),
            readAllEventsPerSec: perSecond(unfiltered.count, unfiltered.ms),
            sqlRowsOnlyEventsPerSec: perSecond(sqlRows.count, sqlRows.ms),
            sqlRowsWithJsonParseEventsPerSec: perSecond(sqlParsed.count, sqlParsed.ms),
          },
          verified: {
            events: model.events,
            modelEvents: model.modelEvents,
            amountMicros: model.amountMicros,
            expectedAmountMicros: fixture.totals.amountMicros,
            checkpoint: checkpoint.toString(),
          },
        },
        targets: {
          rebuildEventsPerSec: atLeast(rebuildRate, 100_000),
          readModelEvents: equals(model.events, total),
          readModelAmountMicros: equals(model.amountMicros, fixture.totals.amountMicros),
        },
      };
    } finally {
      await reads.close();
      await events.close();
    }
  },
};
