import { createHash } from 'node:crypto';
import {
  ErrorType,
  EventData,
  JSONType,
  RecordedEvent as EsdbRecordedEvent,
  WrongExpectedVersionError as EsdbWrongExpectedVersionError,
  isCommandError,
} from '@eventstore/db-client';
import { EventMetadata, EventToAppend, ExpectedRevision, RecordedEvent } from '@purser/core';

// How our events, ids and errors map to EventStoreDB's (see IDEMPOTENCY and APPEND ONCE in esdb-event-store.ts).

/** Namespace of the UUID v5 ids derived from event ids that are not UUIDs. Never change it. */
export const PURSER_EVENT_ID_NAMESPACE = '4a8c6008-962a-4c79-b7b3-8f895c96eb3b';

const UUID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const NIL_UUID = '00000000-0000-0000-0000-000000000000';
/** What the server sends (as -1) when it does not know an event's position. */
export const NO_POSITION = 2n ** 64n - 1n;

/**
 * Looks for `ids` as a run of consecutive events (in order) in a stream's tail (ascending revisions). Answers the
 * run's last event, 'partial' when only some of the ids are there, null when none is.
 */
export function findStoredRun<E extends { id: string }>(tail: E[], ids: string[]): E | 'partial' | null {
  const wanted = ids.map((id) => id.toLowerCase());
  const stored = tail.map((e) => e.id.toLowerCase());
  for (let i = 0; i + wanted.length <= stored.length; i++) {
    if (wanted.every((id, k) => stored[i + k] === id)) return tail[i + wanted.length - 1];
  }
  return wanted.some((id) => stored.includes(id)) ? 'partial' : null;
}

/** Runs `fn` over the items with at most `limit` at once; results in the items' order. */
export async function mapWithConcurrency<T, R>(
  items: T[],
  limit: number,
  fn: (item: T) => Promise<R>,
): Promise<R[]> {
  const results = new Array<R>(items.length);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) {
      const i = next++;
      results[i] = await fn(items[i]);
    }
  };
  await Promise.all(Array.from({ length: Math.min(Math.max(1, limit), items.length) }, worker));
  return results;
}

/**
 * The stream of one appendOnce record: `<streamId>|<scope>|<key>`, scope and key URI-encoded (so neither holds a
 * "|"), hence one stream per (streamId, scope, key) and never one for two.
 */
export function onceStreamId(w: { streamId: string; scope: string; key: string }): string {
  return `${w.streamId}|${encodeURIComponent(w.scope)}|${encodeURIComponent(w.key)}`;
}

/** RFC 4122 name-based UUID, version 5 (SHA-1). */
export function uuidV5(name: string, namespace: string): string {
  const hash = createHash('sha1')
    .update(Buffer.from(namespace.replace(/-/g, ''), 'hex'))
    .update(name, 'utf8')
    .digest();
  const b = hash.subarray(0, 16);
  b[6] = (b[6] & 0x0f) | 0x50;
  b[8] = (b[8] & 0x3f) | 0x80;
  const h = b.toString('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}

/** The EventStoreDB event id for one of ours: the UUID itself, or a UUID v5 derived from any other id. */
export function toEsdbEventId(eventId: string): string {
  const lower = eventId.toLowerCase();
  return UUID_RE.test(lower) && lower !== NIL_UUID ? lower : uuidV5(eventId, PURSER_EVENT_ID_NAMESPACE);
}

export function toEventData(e: EventToAppend): EventData {
  return {
    id: toEsdbEventId(e.metadata.eventId),
    contentType: 'application/json',
    type: e.type,
    data: e.data as JSONType,
    // Our metadata, whole (including our own eventId), is the EventStoreDB event metadata.
    metadata: e.metadata as unknown as JSONType,
  };
}

export function toRecordedEvent(e: EsdbRecordedEvent): RecordedEvent {
  const position = e.position;
  if (!position || position.commit === NO_POSITION) {
    throw new Error(
      `EventStoreDB did not report the position of ${e.streamId}@${e.revision}: Purser needs EventStoreDB 22.6 or ` +
        'later, and events written by legacy explicit transactions have no position on stream reads',
    );
  }
  return {
    streamId: e.streamId,
    revision: e.revision,
    position: position.commit,
    type: e.type,
    data: e.data,
    metadata: toMetadata(e.metadata, e.id),
  };
}

/**
 * Events written through this adapter carry our metadata as is. An event written by another client keeps
 * whatever object metadata it has, with the EventStoreDB event id as its eventId.
 */
export function toMetadata(raw: unknown, esdbId: string): EventMetadata {
  if (raw && typeof raw === 'object' && !Array.isArray(raw) && !(raw instanceof Uint8Array)) {
    const m = raw as Partial<EventMetadata>;
    return (typeof m.eventId === 'string' ? m : { ...m, eventId: esdbId }) as EventMetadata;
  }
  return { eventId: esdbId } as EventMetadata;
}

export function describeExpected(expected: ExpectedRevision): string {
  return typeof expected === 'bigint' ? expected.toString() : expected;
}

export function describeActual(actual: bigint | string): string {
  return typeof actual === 'bigint' && actual >= 0n ? actual.toString() : 'no_stream';
}

export function isWrongExpectedVersion(err: unknown): err is EsdbWrongExpectedVersionError {
  return (
    err instanceof EsdbWrongExpectedVersionError ||
    (err instanceof Error && isCommandError(err) && err.type === ErrorType.WRONG_EXPECTED_VERSION)
  );
}

export function isStreamNotFound(err: unknown): boolean {
  return err instanceof Error && isCommandError(err) && err.type === ErrorType.STREAM_NOT_FOUND;
}
