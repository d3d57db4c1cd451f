import Database from 'better-sqlite3';
import { EventFilter } from '@purser/core';
import { tuneForWrites } from './pragmas';
import { Row } from './sqlite-event-rows';

/** Opens (and creates when new) the event store's file: WAL, the synchronous level, the tables and indexes. */
export function openEventsDb(path: string, synchronous: 'NORMAL' | 'FULL' | undefined): Database.Database {
  const db = new Database(path);
  db.pragma('journal_mode = WAL');
  db.pragma(`synchronous = ${synchronous === 'FULL' ? 'FULL' : 'NORMAL'}`);
  db.pragma('busy_timeout = 5000');
  tuneForWrites(db);
  db.exec(`
    CREATE TABLE IF NOT EXISTS events (
      position  INTEGER PRIMARY KEY,
      stream_id TEXT NOT NULL,
      revision  INTEGER NOT NULL,
      event_id  TEXT NOT NULL,
      type      TEXT NOT NULL,
      data      TEXT NOT NULL,
      metadata  TEXT NOT NULL
    );
    CREATE UNIQUE INDEX IF NOT EXISTS events_stream_revision ON events(stream_id, revision);
    CREATE UNIQUE INDEX IF NOT EXISTS events_event_id ON events(event_id);
    CREATE TABLE IF NOT EXISTS streams (
      stream_id TEXT PRIMARY KEY,
      revision  INTEGER NOT NULL
    ) WITHOUT ROWID;
    -- appendOnce: the record of each (scope, key), by its position in events.
    CREATE TABLE IF NOT EXISTS once_keys (
      scope    TEXT NOT NULL,
      key      TEXT NOT NULL,
      position INTEGER NOT NULL,
      PRIMARY KEY (scope, key)
    ) WITHOUT ROWID;
  `);
  return db;
}

/** The event store's prepared statements. */
export function prepareEventStatements(db: Database.Database) {
  return {
    streamRevision: db.prepare<[string], { revision: number }>(
      'SELECT revision FROM streams WHERE stream_id = ?',
    ),
    upsertStream: db.prepare(
      'INSERT INTO streams(stream_id, revision) VALUES (?, ?) ON CONFLICT(stream_id) DO UPDATE SET revision = excluded.revision',
    ),
    insert: db.prepare(
      'INSERT INTO events(stream_id, revision, event_id, type, data, metadata) VALUES (?, ?, ?, ?, ?, ?)',
    ),
    onceKey: db.prepare<[string, string], { position: number }>(
      'SELECT position FROM once_keys WHERE scope = ? AND key = ?',
    ),
    insertOnceKey: db.prepare('INSERT INTO once_keys(scope, key, position) VALUES (?, ?, ?)'),
    byPosition: db
      .prepare<[number], Row>(
        'SELECT position, stream_id, revision, type, data, metadata FROM events WHERE position = ?',
      )
      .raw(true),
    rowByEventId: db
      .prepare<[string], Row>(
        'SELECT position, stream_id, revision, type, data, metadata FROM events WHERE event_id = ?',
      )
      .raw(true),
    byEventId: db.prepare<[string], { position: number; stream_id: string; revision: number }>(
      'SELECT position, stream_id, revision FROM events WHERE event_id = ?',
    ),
    readStream: db
      .prepare<[string, number, number], Row>(
        'SELECT position, stream_id, revision, type, data, metadata FROM events WHERE stream_id = ? AND revision >= ? ORDER BY revision LIMIT ?',
      )
      .raw(true),
    readAll: db
      .prepare<[number, number], Row>(
        'SELECT position, stream_id, revision, type, data, metadata FROM events WHERE position > ? ORDER BY position LIMIT ?',
      )
      .raw(true),
    head: db.prepare<[], { p: number | null }>('SELECT MAX(position) AS p FROM events'),
    revisions: db
      .prepare<[string], [string, number]>(
        'SELECT stream_id, revision FROM streams WHERE stream_id IN (SELECT value FROM json_each(?))',
      )
      .raw(true),
  };
}

export type EventStatements = ReturnType<typeof prepareEventStatements>;

/** The filtered $all read for a filter's shape (how many types, how many prefixes); cached per shape. */
export function filteredRead(
  db: Database.Database,
  cache: Map<string, Database.Statement>,
  filter: EventFilter,
): Database.Statement {
  const key = `${filter.eventTypes?.length ?? 0}:${filter.streamPrefixes?.length ?? 0}`;
  let stmt = cache.get(key);
  if (!stmt) {
    const ors: string[] = [];
    const ands: string[] = [];
    if (filter.eventTypes?.length) ands.push(`type IN (${filter.eventTypes.map(() => '?').join(',')})`);
    for (let i = 0; i < (filter.streamPrefixes?.length ?? 0); i++) ors.push('substr(stream_id, 1, ?) = ?');
    if (ors.length) ands.push(`(${ors.join(' OR ')})`);
    stmt = db
      .prepare(
        `SELECT position, stream_id, revision, type, data, metadata FROM events
       WHERE position > ? AND position <= ? AND ${ands.join(' AND ')} ORDER BY position LIMIT ?`,
      )
      .raw(true);
    cache.set(key, stmt);
  }
  return stmt;
}
