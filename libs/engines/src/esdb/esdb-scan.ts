import {
  AllStreamRecordedEvent,
  BACKWARDS,
  END,
  FORWARDS,
  Position,
  ReadPosition,
  START,
} from '@eventstore/db-client';
import { AllBatch, EventFilter, RecordedEvent } from '@purser/core';
import { toRecordedEvent } from './esdb-codec';

/*
 * Reading $all: positions, the exclusive `after`, filters and checkpoints. Pure parts, exported for the unit tests.
 *
 * POSITIONS
 * EventStoreDB positions are byte offsets in its transaction log, given as a pair {commit, prepare}. Every append
 * made over gRPC is an implicit transaction: each event is its own self-committed prepare record, and in $all it
 * sits at {commit: p, prepare: p} where p is the record's own offset. So within every append the events have
 * distinct commit positions, and the commit position alone is unique and strictly increasing in $all order.
 * The append answer's position is {commit: p, prepare: p} of the append's LAST event (the server acknowledges
 * the record that ends the transaction), so "a projection's checkpoint >= the append's position" means exactly
 * "the projection has handled every event of that append". Our `position: bigint` is therefore `position.commit`.
 *
 * The one exception are explicit transactions of the legacy TCP client API (not offered over gRPC): their events
 * share the commit position of the transaction's commit record and differ by prepare position. The adapter keeps
 * such a group whole: a batch never ends inside it (see AllScanner and takeBatch), so an exclusive `after`
 * equal to that shared commit position never hides a part of the group.
 *
 * "after" is exclusive, while EventStoreDB reads and subscribes from a position inclusively, and only from a
 * valid record boundary: a position inside a record is refused or, on older servers, silently yields nothing.
 * Positions are sparse byte offsets, so callers may hand us values that are no record boundary (`p - 1n`).
 * resolveStart() therefore never sends an unverified position: it reads one event at {after, after} and uses that
 * position only when the server answers with an event at exactly that commit position; otherwise it reads $all
 * backwards from the end to the last event at or before `after` (the anchor). Reading then starts at a verified
 * position at or before `after` and skips, client side, every event whose commit position is <= `after`.
 *
 * CHECKPOINTS
 * A batch's checkpoint is the commit position of the last $all event the adapter has scanned, including events
 * the filter dropped and, for readAll, system events. It is always a real event position, hence a valid and
 * cheap place to resume from. Filters (event types, stream prefixes) are applied client side:
 * - readAll: client 6.x sends no filter with readAll at all;
 * - subscribeToAll: the server only filters out system events (excludeSystemEvents). A server-side type or
 *   prefix filter would make the filtered-out stretch visible only through checkpointReached, whose position is
 *   {next record's offset, 0}: as an exclusive bigint it would either claim the next, not yet delivered event
 *   (lost on resume) or be `offset - 1`, no record boundary to resume from. Scanning every non-system event
 *   client side costs bandwidth but lets the checkpoint pass every filtered-out event of ours, which is what
 *   waitFor(position) needs. checkpointReached is therefore not used.
 *
 */

/** Reads one page of $all: forwards inclusive of `from`, backwards exclusive of it (EventStoreDB semantics). */
export type PageReader = (
  from: ReadPosition,
  direction: typeof FORWARDS | typeof BACKWARDS,
  maxCount: number,
) => Promise<AllStreamRecordedEvent[]>;

/** Orders $all positions: by commit, then by prepare. */
export function comparePositions(a: Position, b: Position): number {
  if (a.commit !== b.commit) return a.commit < b.commit ? -1 : 1;
  if (a.prepare !== b.prepare) return a.prepare < b.prepare ? -1 : 1;
  return 0;
}

export function isSystemEvent(e: { type: string; streamId: string }): boolean {
  return e.type.startsWith('$') || e.streamId.startsWith('$');
}

export function hasFilter(filter?: EventFilter): boolean {
  return !!filter && (!!filter.eventTypes?.length || !!filter.streamPrefixes?.length);
}

/** Both parts of the filter must hold; an absent or empty part holds for every event. */
export function matchesFilter(
  filter: EventFilter | undefined,
  e: { type: string; streamId: string },
): boolean {
  if (filter?.eventTypes?.length && !filter.eventTypes.includes(e.type)) return false;
  if (filter?.streamPrefixes?.length && !filter.streamPrefixes.some((p) => e.streamId.startsWith(p)))
    return false;
  return true;
}

/**
 * Folds $all events, in order, into one batch after `after` (exclusive). Events at or before `after`, and
 * repeats of an already scanned position (page overlaps), are skipped. The checkpoint moves with every scanned
 * event, matching or not. Once the batch is full (maxCount events, or maxScanned scanned) it still takes the
 * rest of a group sharing one commit position, then refuses the next event: offer() returns false.
 */
export class AllScanner {
  private readonly events: RecordedEvent[] = [];
  private checkpoint: bigint;
  private last: Position | null = null;
  private scanned = 0;

  constructor(
    private readonly after: bigint,
    private readonly filter?: EventFilter,
    private readonly maxCount = Infinity,
    private readonly maxScanned = Infinity,
  ) {
    this.checkpoint = after;
  }

  offer(e: AllStreamRecordedEvent): boolean {
    if (e.position.commit <= this.after) return true;
    if (this.last && comparePositions(e.position, this.last) <= 0) return true;
    const full = this.events.length >= this.maxCount || this.scanned >= this.maxScanned;
    if (full && e.position.commit !== this.checkpoint) return false;
    this.last = e.position;
    this.checkpoint = e.position.commit;
    this.scanned++;
    if (!isSystemEvent(e) && matchesFilter(this.filter, e)) this.events.push(toRecordedEvent(e));
    return true;
  }

  result(): AllBatch {
    return { events: [...this.events], checkpoint: this.checkpoint };
  }
}

/** Reads $all forwards from `from` into the scanner until it is full or the end of $all is reached. */
export async function scanForward(
  read: PageReader,
  from: ReadPosition,
  scanner: AllScanner,
  pageSize: number,
): Promise<void> {
  let position = from;
  for (;;) {
    const page = await read(position, FORWARDS, pageSize);
    for (const e of page) if (!scanner.offer(e)) return;
    if (page.length < pageSize) return;
    const next = page[page.length - 1].position;
    if (typeof position === 'object' && comparePositions(next, position) <= 0) {
      throw new Error('EventStoreDB $all read made no progress');
    }
    position = next;
  }
}

/** The position of the last event whose commit position is <= `after` (START when there is none). */
export async function findAnchor(read: PageReader, after: bigint, pageSize: number): Promise<ReadPosition> {
  let position: ReadPosition = END;
  for (;;) {
    const page = await read(position, BACKWARDS, pageSize);
    for (const e of page) if (e.position.commit <= after) return e.position;
    if (page.length < pageSize) return START;
    const next = page[page.length - 1].position;
    if (typeof position === 'object' && comparePositions(next, position) >= 0) {
      throw new Error('EventStoreDB $all backward read made no progress');
    }
    position = next;
  }
}

/** Commit position of the last non-system event in $all, -1 when there is none. */
export async function lastNonSystemPosition(read: PageReader, pageSize: number): Promise<bigint> {
  let position: ReadPosition = END;
  for (;;) {
    const page = await read(position, BACKWARDS, pageSize);
    for (const e of page) if (!isSystemEvent(e)) return e.position.commit;
    if (page.length < pageSize) return -1n;
    const next = page[page.length - 1].position;
    if (typeof position === 'object' && comparePositions(next, position) >= 0) {
      throw new Error('EventStoreDB $all backward read made no progress');
    }
    position = next;
  }
}

/**
 * Takes what is immediately available, up to `max` items (a carried item first). When full, it goes on while the
 * next item belongs to the same group as the last one, so a group is never split; the first item of the next
 * group is handed back as `carry`.
 */
export function takeBatch<T>(
  next: () => T | null,
  max: number,
  sameGroup: (a: T, b: T) => boolean,
  carry: T | null,
): { items: T[]; carry: T | null } {
  const items: T[] = carry === null ? [] : [carry];
  while (items.length < max) {
    const item = next();
    if (item === null) return { items, carry: null };
    items.push(item);
  }
  for (;;) {
    const item = next();
    if (item === null) return { items, carry: null };
    if (!sameGroup(items[items.length - 1], item)) return { items, carry: item };
    items.push(item);
  }
}
