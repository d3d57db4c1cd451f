import Database from 'better-sqlite3';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { SqliteEventStore, tuneForWrites } from '@purser/engines';
import { Suite, SuiteContext, atLeast } from '../lib/suite';
import { median, perSecond, round, stopwatch } from '../lib/timing';
import { UsageFixture, UsageToAppend } from '../lib/usage';

const BATCH = 100;
/** Each variant runs this many times, interleaved with its baseline, on fresh files; the median counts. */
const ROUNDS = 3;

/** The SqliteEventStore's events table and indexes, without its streams table or revision checks. */
const RAW_SCHEMA = `
  CREATE TABLE events (
    position  INTEGER PRIMARY KEY,
    stream_id TEXT NOT NULL,
    revision  INTEGER NOT NULL,
    event_id  TEXT NOT NULL,
    type      TEXT NOT NULL,
    data      TEXT NOT NULL,
    metadata  TEXT NOT NULL
  );
  CREATE UNIQUE INDEX events_stream_revision ON events(stream_id, revision);
  CREATE UNIQUE INDEX events_event_id ON events(event_id);
`;

type Runner = (path: string, batches: UsageToAppend[][]) => Promise<number>;

/** Raw better-sqlite3, same pragmas and table; one transaction per batch (a batch of 1 = one commit per event). */
const raw: Runner = async (path, batches) => {
  const db = new Database(path);
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = NORMAL');
  tuneForWrites(db);
  db.exec(RAW_SCHEMA);
  const insert = db.prepare(
    'INSERT INTO events(stream_id, revision, event_id, type, data, metadata) VALUES (?, ?, ?, ?, ?, ?)',
  );
  const tx = db.transaction((streamId: string, events: UsageToAppend[]) => {
    for (let r = 0; r < events.length; r++) {
      const e = events[r];
      insert.run(streamId, r, e.metadata.eventId, e.type, JSON.stringify(e.data), JSON.stringify(e.metadata));
    }
  });
  try {
    const elapsed = stopwatch();
    for (let b = 0; b < batches.length; b++) tx(`usage-${b}`, batches[b]);
    return elapsed();
  } finally {
    db.close();
  }
};

/** SqliteEventStore.append: one call per batch, each batch its own new stream ('no_stream'). */
const store: Runner = async (path, batches) => {
  const es = new SqliteEventStore(path);
  try {
    const elapsed = stopwatch();
    for (let b = 0; b < batches.length; b++) await es.append(`usage-${b}`, batches[b], 'no_stream');
    return elapsed();
  } finally {
    await es.close();
  }
};

function chunk<T>(items: T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}

async function compare(ctx: SuiteContext, label: string, events: UsageToAppend[], batchSize: number) {
  const batches = chunk(events, batchSize);
  const files: string[] = [];
  const fresh = (name: string) => {
    const path = join(ctx.dir, `${label}-${name}-${files.length}.db`);
    files.push(path);
    return path;
  };
  const drop = () => {
    for (const f of files.splice(0)) for (const s of ['', '-wal', '-shm']) rmSync(f + s, { force: true });
  };
  // Warm-up (JIT, statement caches), not measured.
  const warm = batches.slice(0, Math.max(1, Math.ceil(batches.length / 20)));
  await raw(fresh('warm-raw'), warm);
  await store(fresh('warm-store'), warm);
  drop();
  const rawMs: number[] = [];
  const storeMs: number[] = [];
  for (let round = 0; round < ROUNDS; round++) {
    // Alternate which runs first, so neither side always inherits the other's dirty pages or warm caches.
    if (round % 2 === 0) {
      rawMs.push(await raw(fresh('raw'), batches));
      storeMs.push(await store(fresh('store'), batches));
    } else {
      storeMs.push(await store(fresh('store'), batches));
      rawMs.push(await raw(fresh('raw'), batches));
    }
    drop();
    ctx.log(
      `eventstore-append: ${label} round ${round + 1}/${ROUNDS}: store ${perSecond(events.length, storeMs[round])}/s, raw ${perSecond(events.length, rawMs[round])}/s`,
    );
  }
  const storeRate = perSecond(events.length, median(storeMs));
  const rawRate = perSecond(events.length, median(rawMs));
  return {
    events: events.length,
    eventsPerAppend: batchSize,
    rounds: ROUNDS,
    storeEventsPerSec: storeRate,
    rawEventsPerSec: rawRate,
    ratio: round(storeRate / rawRate, 3),
    storeRoundsEventsPerSec: storeMs.map((ms) => perSecond(events.length, ms)),
    rawRoundsEventsPerSec: rawMs.map((ms) => perSecond(events.length, ms)),
  };
}

export const eventstoreAppendSuite: Suite = {
  name: 'eventstore-append',
  description:
    'SqliteEventStore.append of usage events, one per append and 100 per append, vs raw better-sqlite3 inserts',
  async run(ctx) {
    const singleCount = ctx.count(20_000);
    const batchedCount = ctx.count(200_000, BATCH);
    const fixture = new UsageFixture({ users: 1000, teams: 50, total: singleCount + batchedCount });
    const single = await compare(ctx, 'single', fixture.take(singleCount), 1);
    const batched = await compare(ctx, 'batched', fixture.take(batchedCount), BATCH);
    return {
      figures: {
        note: 'raw = better-sqlite3 prepared INSERT into the same table and indexes (no streams table, no revision check), same pragmas, JSON.stringify included; median of rounds',
        single,
        batched,
      },
      targets: { batchedVsRawBatched: atLeast(batched.ratio, 0.5) },
    };
  },
};
