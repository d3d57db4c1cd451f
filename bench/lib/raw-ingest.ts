import Database from 'better-sqlite3';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { Grain, formatNanos, padPosition, periodKeys, toNanos } from '@purser/core';
import { usageRecordedData } from '../../libs/usage/src/ingest';
import { usageRecord } from '../../libs/usage/src/projection';
import { UsageRecorded, usageEventId } from '../../libs/usage/src/events';
import { checkUsage } from '../../libs/usage/src/usage-input';
import { tuneForWrites } from '../../libs/engines/src/sqlite/pragmas';
import { round } from './timing';

/** What the raw pipeline needs of the bench's directory: the org, and each user's team with its parent. */
export interface RawDirectory {
  orgId: string;
  timeZone: string;
  baseCurrency: string;
  teamPath: (userId: string) => string[];
}

const GRAINS: Grain[] = ['hour', 'day', 'week', 'month'];
const STREAM_BATCH = 10_000;

type Row = [number, string, number, string, string, string];
type Totals = Map<string, bigint>;
interface Bucket {
  total: bigint;
  byUser: Totals;
  byTeam: Totals;
  byItemType: Totals;
  byItem: Totals;
}

const add = (m: Totals, k: string, v: bigint) => m.set(k, (m.get(k) ?? 0n) + v);
const entries = (m: Totals) => Object.fromEntries([...m].map(([k, v]) => [k, { a: formatNanos(v), n: 1 }]));

/**
 * The storage floor of usage ingest: the durable work the API and the worker do for each event, written straight
 * against better-sqlite3 with no framework, in this process (one thread, one phase after the other).
 *
 * - API phase: parse each 500-event body, check each event (the API's own checker), stamp it as the API does, append
 *   it in one transaction per body to an events table with the event store's schema (unique event id and stream
 *   revision indexes, the streams table), and serialize a result list.
 * - Worker phase: read the events back in batches of 10,000, parse them, insert one record document per event into
 *   a table with the read store's layout and the expenditure records' three expression indexes, and upsert the
 *   touched hour/day/week/month buckets (exact per-user, team, item type and item sums).
 *
 * Same pragmas as the embedded stores (WAL, synchronous NORMAL, the write tuning); checkpoints run in the committing
 * connection, so their cost is in the figures. What it leaves out is what the framework adds: HTTP and Nest, the
 * directory lookups, the command executor, subscriptions and checkpoints, the read-store port.
 */
export function rawIngestFloor(bodies: Buffer[], dir: RawDirectory, path: string): Record<string, unknown> {
  mkdirSync(path, { recursive: true });
  const open = (file: string) => {
    const db = new Database(join(path, file));
    db.pragma('journal_mode = WAL');
    db.pragma('synchronous = NORMAL');
    tuneForWrites(db);
    return db;
  };
  const events = open('events.sqlite');
  events.exec(`
    CREATE TABLE events (position INTEGER PRIMARY KEY, stream_id TEXT NOT NULL, revision INTEGER NOT NULL,
      event_id TEXT NOT NULL, type TEXT NOT NULL, data TEXT NOT NULL, metadata TEXT NOT NULL);
    CREATE UNIQUE INDEX events_stream_revision ON events(stream_id, revision);
    CREATE UNIQUE INDEX events_event_id ON events(event_id);
    CREATE TABLE streams (stream_id TEXT PRIMARY KEY, revision INTEGER NOT NULL) WITHOUT ROWID;`);
  const read = open('read.sqlite');
  const field = (f: string) => `json_extract(doc, '$."${f}"')`;
  read.exec(`
    CREATE TABLE records (id TEXT PRIMARY KEY, doc TEXT NOT NULL);
    CREATE INDEX records_org_at ON records(${field('orgId')}, ${field('occurredAt')});
    CREATE INDEX records_org_user_at ON records(${field('orgId')}, ${field('userId')}, ${field('occurredAt')});
    CREATE INDEX records_org_item_at ON records(${field('orgId')}, ${field('itemId')}, ${field('occurredAt')});
    CREATE TABLE buckets (id TEXT PRIMARY KEY, doc TEXT NOT NULL);`);
  try {
    const api = apiPhase(events, bodies, dir);
    const worker = workerPhase(events, read, dir);
    return {
      events: api.events,
      cpuMicrosPerEvent: { api: api.cpuMicrosPerEvent, worker: worker.cpuMicrosPerEvent },
      wallMs: { api: api.wallMs, worker: worker.wallMs },
      what: 'the same appends, record documents and bucket sums written straight with better-sqlite3 (no framework), one thread',
    };
  } finally {
    events.close();
    read.close();
  }
}

function cpuNow(): number {
  const c = process.cpuUsage();
  return c.user + c.system;
}

function apiPhase(db: Database.Database, bodies: Buffer[], dir: RawDirectory) {
  const insert = db.prepare(
    'INSERT INTO events(stream_id, revision, event_id, type, data, metadata) VALUES (?, ?, ?, ?, ?, ?)',
  );
  const upsertStream = db.prepare(
    'INSERT INTO streams(stream_id, revision) VALUES (?, ?) ON CONFLICT(stream_id) DO UPDATE SET revision = excluded.revision',
  );
  const stream = `usage-${dir.orgId}`;
  let revision = -1;
  const append = db.transaction((rows: Array<[string, string, string]>) => {
    const positions: number[] = [];
    for (const [eventId, data, metadata] of rows)
      positions.push(
        Number(insert.run(stream, ++revision, eventId, 'UsageRecorded', data, metadata).lastInsertRowid),
      );
    upsertStream.run(stream, revision);
    return positions;
  });
  const started = Date.now();
  const cpu = cpuNow();
  let count = 0;
  for (const body of bodies) {
    const now = Date.now();
    const occurredAt = new Date(now).toISOString();
    const batch = (JSON.parse(body.toString('utf8')) as { events: unknown[] }).events;
    const rows: Array<[string, string, string]> = [];
    for (const raw of batch) {
      const checked = checkUsage(raw, now);
      if (!checked.ok) throw new Error(`raw ingest floor: ${checked.reason}`);
      const u = checked.value;
      const teamPath = dir.teamPath(u.userId);
      const data = usageRecordedData(u, teamPath[0] ?? null, teamPath, dir);
      const metadata = {
        eventId: usageEventId(u.orgId, u.eventId),
        correlationId: 'raw-floor',
        causationId: null,
        actor: { type: 'agent', id: 'raw-floor' },
        occurredAt,
        schemaVersion: 1,
        orgId: u.orgId,
      };
      rows.push([metadata.eventId, JSON.stringify(data), JSON.stringify(metadata)]);
    }
    const positions = append(rows);
    JSON.stringify({
      results: positions.map((p, i) => ({
        eventId: (batch[i] as { eventId: string }).eventId,
        status: 'recorded',
        position: String(p),
      })),
    });
    count += rows.length;
  }
  return {
    events: count,
    cpuMicrosPerEvent: round((cpuNow() - cpu) / count, 1),
    wallMs: Date.now() - started,
  };
}

function workerPhase(events: Database.Database, db: Database.Database, dir: RawDirectory) {
  const readRows = events
    .prepare<[number, number], Row>(
      'SELECT position, stream_id, revision, type, data, metadata FROM events WHERE position > ? ORDER BY position LIMIT ?',
    )
    .raw(true);
  const insertRecord = db.prepare('INSERT INTO records(id, doc) VALUES (?, ?) ON CONFLICT DO NOTHING');
  const upsertBucket = db.prepare(
    'INSERT INTO buckets(id, doc) VALUES (?, ?) ON CONFLICT(id) DO UPDATE SET doc = excluded.doc',
  );
  const write = db.transaction((records: Array<[string, string]>, buckets: Array<[string, string]>) => {
    for (const [id, doc] of records) insertRecord.run(id, doc);
    for (const [id, doc] of buckets) upsertBucket.run(id, doc);
  });
  const buckets = new Map<string, Bucket>();
  const started = Date.now();
  const cpu = cpuNow();
  let after = -1;
  let count = 0;
  for (;;) {
    const rows = readRows.all(after, STREAM_BATCH);
    if (rows.length === 0) break;
    after = rows[rows.length - 1][0];
    const records: Array<[string, string]> = [];
    const touched = new Set<string>();
    for (const r of rows) {
      const d = JSON.parse(r[4]) as UsageRecorded['data'];
      const m = JSON.parse(r[5]) as { occurredAt: string };
      const nanos = toNanos(d.amount);
      const base = d.currency === d.baseCurrency ? nanos : null;
      const doc = usageRecord(d, BigInt(r[0]), m.occurredAt, base, null);
      records.push([doc._id, JSON.stringify(doc)]);
      const keys = periodKeys(d.occurredAt, dir.timeZone);
      for (const g of GRAINS) {
        const bucketId = `${d.orgId}|${g}|${keys[g]}`;
        let b = buckets.get(bucketId);
        if (!b) {
          b = { total: 0n, byUser: new Map(), byTeam: new Map(), byItemType: new Map(), byItem: new Map() };
          buckets.set(bucketId, b);
        }
        b.total += nanos;
        add(b.byUser, d.userId, nanos);
        for (const t of d.teamPath) add(b.byTeam, t, nanos);
        add(b.byItemType, d.itemType, nanos);
        add(b.byItem, `${d.itemType}:${d.itemId}`, nanos);
        touched.add(bucketId);
      }
    }
    const docs: Array<[string, string]> = [...touched].map((id) => {
      const b = buckets.get(id)!;
      return [
        id,
        JSON.stringify({
          _id: id,
          total: formatNanos(b.total),
          byUser: entries(b.byUser),
          byTeam: entries(b.byTeam),
          byItemType: entries(b.byItemType),
          byItem: entries(b.byItem),
          _pos: padPosition(BigInt(after)),
        }),
      ];
    });
    write(records, docs);
    count += rows.length;
  }
  return {
    cpuMicrosPerEvent: round((cpuNow() - cpu) / Math.max(1, count), 1),
    wallMs: Date.now() - started,
  };
}
