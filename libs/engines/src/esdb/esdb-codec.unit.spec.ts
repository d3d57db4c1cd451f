import {
  PURSER_EVENT_ID_NAMESPACE,
  describeActual,
  describeExpected,
  toEsdbEventId,
  toEventData,
  toMetadata,
  toRecordedEvent,
  uuidV5,
} from './esdb-codec';
import { ev } from './testing/esdb-fixtures';

// Server-free tests of the adapter's own logic (fixtures in testing/esdb-fixtures.ts); the contract suite runs
// against a real server in esdb-event-store.int.spec.ts.

const DNS_NAMESPACE = '6ba7b810-9dad-11d1-80b4-00c04fd430c8';

describe('EventStoreDB adapter: event ids', () => {
  it('given a name and a namespace, then uuidV5 gives the RFC 4122 version 5 UUID', () => {
    expect(uuidV5('hello.example.com', DNS_NAMESPACE)).toBe('fdda765f-fc57-5604-a269-52a7df8164ec');
    expect(uuidV5('www.example.com', DNS_NAMESPACE)).toBe('2ed6657d-e927-568b-95e1-2665a8aea6a2');
  });

  it('given a UUID event id, then it is the EventStoreDB id as is (lower case)', () => {
    expect(toEsdbEventId('9F1C2A3B-4D5E-4F60-8A7B-8C9D0E1F2A3B')).toBe(
      '9f1c2a3b-4d5e-4f60-8a7b-8c9d0e1f2a3b',
    );
  });

  it('given an id that is no UUID, then a stable UUID v5 is derived from it and different ids stay different', () => {
    const a = toEsdbEventId('usage-2024-01-01-agent-1');
    expect(a).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(toEsdbEventId('usage-2024-01-01-agent-1')).toBe(a);
    expect(a).toBe(uuidV5('usage-2024-01-01-agent-1', PURSER_EVENT_ID_NAMESPACE));
    expect(toEsdbEventId('usage-2024-01-01-agent-2')).not.toBe(a);
  });

  it('given the nil UUID, then an id is derived, since the server cannot store an empty id', () => {
    expect(toEsdbEventId('00000000-0000-0000-0000-000000000000')).not.toBe(
      '00000000-0000-0000-0000-000000000000',
    );
  });

  it('given an event to append, then its metadata, original event id included, is the stored metadata', () => {
    const metadata = {
      eventId: 'not-a-uuid',
      correlationId: 'c',
      causationId: null,
      actor: { type: 'system' as const, id: 'purser' },
      occurredAt: '2024-01-01T00:00:00.000Z',
      schemaVersion: 1,
      orgId: 'org-1',
    };
    const data = toEventData({ type: 'UsageRecorded', data: { amount: '1.00' }, metadata });
    expect(data).toEqual({
      id: uuidV5('not-a-uuid', PURSER_EVENT_ID_NAMESPACE),
      contentType: 'application/json',
      type: 'UsageRecorded',
      data: { amount: '1.00' },
      metadata,
    });
  });
});

describe('EventStoreDB adapter: recorded events', () => {
  it('given an event read from the server, then its position is the commit position and its metadata is ours', () => {
    const e = toRecordedEvent({
      ...ev(640n, { streamId: 's', revision: 3n }),
      metadata: { eventId: 'orig', orgId: 'o' },
    });
    expect(e).toEqual({
      streamId: 's',
      revision: 3n,
      position: 640n,
      type: 'UsageRecorded',
      data: { at: '640' },
      metadata: { eventId: 'orig', orgId: 'o' },
    });
  });

  it('given an event without a position (server older than 22.6, or a legacy transaction), then reading fails loudly', () => {
    expect(() => toRecordedEvent({ ...ev(1n), position: undefined } as never)).toThrow(/22\.6/);
    expect(() => toRecordedEvent(ev(2n ** 64n - 1n))).toThrow(/position/);
  });

  it('given metadata written by another client, then it is kept and the event id is the EventStoreDB id', () => {
    expect(toMetadata({ $correlationId: 'x' }, 'esdb-id')).toEqual({
      $correlationId: 'x',
      eventId: 'esdb-id',
    });
    expect(toMetadata(undefined, 'esdb-id')).toEqual({ eventId: 'esdb-id' });
    expect(toMetadata(new Uint8Array([1, 2]), 'esdb-id')).toEqual({ eventId: 'esdb-id' });
  });
});

describe('EventStoreDB adapter: revisions in conflicts', () => {
  it('names the expected and the actual revision the way the other adapters do', () => {
    expect(describeExpected(0n)).toBe('0');
    expect(describeExpected('no_stream')).toBe('no_stream');
    expect(describeExpected('stream_exists')).toBe('stream_exists');
    expect(describeActual(1n)).toBe('1');
    expect(describeActual('no_stream')).toBe('no_stream');
    expect(describeActual(-1n)).toBe('no_stream');
  });
});
