import { ConflictError, EventFilter, RecordedEvent } from '@purser/core';

// The events table's rows as the SQLite event store reads them, and what it makes of them.

/** position, stream_id, revision, type, data, metadata (rows read as arrays: cheaper than objects). */
export type Row = [number, string, number, string, string, string];

export function hasFilter(filter?: EventFilter): boolean {
  return !!filter && (!!filter.eventTypes?.length || !!filter.streamPrefixes?.length);
}

export function filterParams(filter: EventFilter): unknown[] {
  const params: unknown[] = [...(filter.eventTypes ?? [])];
  for (const p of filter.streamPrefixes ?? []) params.push(p.length, p);
  return params;
}

export function toRecorded(r: Row): RecordedEvent {
  return new StoredEvent(r[1], BigInt(r[2]), BigInt(r[0]), r[3], r[4], r[5]);
}

/**
 * An event as read from the table: its data and metadata are parsed from their JSON on first use, so a reader that
 * skips an event after a look at its metadata (the quota counter, for usage of an org without quotas) never pays for
 * parsing its data, nor for collecting the objects. Both are read-only, as for every recorded event.
 */
export class StoredEvent implements RecordedEvent {
  private parsedData: unknown;
  private parsedMetadata: RecordedEvent['metadata'] | undefined;

  constructor(
    readonly streamId: string,
    readonly revision: bigint,
    readonly position: bigint,
    readonly type: string,
    private readonly rawData: string,
    private readonly rawMetadata: string,
  ) {}

  get data(): unknown {
    return this.parsedData === undefined ? (this.parsedData = JSON.parse(this.rawData)) : this.parsedData;
  }

  get metadata(): RecordedEvent['metadata'] {
    return (this.parsedMetadata ??= JSON.parse(this.rawMetadata) as RecordedEvent['metadata']);
  }

  /** The event as a plain object, for JSON.stringify (data and metadata are accessors, not own properties). */
  toJSON(): RecordedEvent {
    const { streamId, revision, position, type, data, metadata } = this;
    return { streamId, revision, position, type, data, metadata } as RecordedEvent;
  }
}

/** An event id already stored elsewhere (another stream or position), or twice in one write. */
export function eventIdTaken(eventId: string): ConflictError {
  return new ConflictError(`event id ${eventId} is already stored in another stream or position`, [
    { field: 'eventId', problem: 'duplicate', eventId },
  ]);
}
