import { randomUUID } from 'node:crypto';
import { eventStoreContract, usageEvent } from '@purser/testkit';
import { describeEngine, uniqueSuffix } from '@purser/testkit';
import { EsdbEventStore } from './esdb-event-store';

describeEngine('EVENTSTORE_URL', 'EventStoreDB event store contract', (url) => {
  eventStoreContract(async () => new EsdbEventStore(url), { streamPrefix: 'esdb' });

  describe('EventStoreDB specifics', () => {
    let store: EsdbEventStore;
    beforeAll(() => {
      store = new EsdbEventStore(url);
    });
    afterAll(async () => {
      await store?.close();
    });

    it('given an event id that is no UUID, then it round-trips in the metadata and a re-append writes nothing', async () => {
      const s = `esdb-ids-${uniqueSuffix()}`;
      const event = usageEvent('1.00', { eventId: `usage-${randomUUID()}-agent-1` });
      const first = await store.append(s, [event], 'no_stream');
      expect(await store.append(s, [event], 'no_stream')).toMatchObject({
        nextRevision: first.nextRevision,
        position: first.position,
      });
      const read = await store.readStream(s);
      expect(read).toHaveLength(1);
      expect(read[0].metadata).toEqual(event.metadata);
    });

    it('given a retry with a stale expected revision after later appends, then the original result is answered', async () => {
      const s = `esdb-retry-${uniqueSuffix()}`;
      const retried = usageEvent('1');
      const first = await store.append(s, [retried], 'no_stream');
      await store.append(s, [usageEvent('2')], 0n);
      // The caller read revision 1 in between and retries with it: the server refuses, the tail has the ids.
      await store.append(s, [usageEvent('3')], 1n);
      expect(await store.append(s, [retried], 1n)).toMatchObject({
        nextRevision: first.nextRevision,
        position: first.position,
      });
      expect(await store.readStream(s)).toHaveLength(3);
    });

    it('given every event position of an append, then readAll after each one starts right after it', async () => {
      const s = `esdb-after-${uniqueSuffix()}`;
      await store.append(s, [usageEvent('1'), usageEvent('2'), usageEvent('3')], 'no_stream');
      const stored = await store.readStream(s);
      for (const [i, e] of stored.entries()) {
        const batch = await store.readAll({ after: e.position, filter: { streamPrefixes: [s] } });
        expect(batch.events.map((x) => x.revision)).toEqual(stored.slice(i + 1).map((x) => x.revision));
        // A position inside a record (no record boundary) behaves like the event position just before it.
        const inside = await store.readAll({ after: e.position + 1n, filter: { streamPrefixes: [s] } });
        expect(inside.events.map((x) => x.revision)).toEqual(stored.slice(i + 1).map((x) => x.revision));
      }
    });
  });
});
