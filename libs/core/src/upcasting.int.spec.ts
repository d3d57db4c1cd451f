import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SqliteEventStore, SqliteReadStore } from '@purser/engines';
import { EventRegistry } from './registry';
import { PositionWaiter, Projection, ProjectionRunner } from './projection';
import { RecordedEvent, SYSTEM_ACTOR } from './events';
import { ReadStore } from './read-store.port';

/**
 * The catalogue of event schema changes the contexts will need, each with its upcaster (CONVENTIONS: never edit a
 * published event in place; add a version and upcast old ones on read). The example is a contact event whose
 *   v1 { email }                         was published first,
 *   v2 { email, phone: string | null }   added an optional field (old events read with its default),
 *   v3 { address, phone }                renamed email to address (old events read under the new name).
 */
type ContactV3 = { address: string; phone: string | null };
const upcasters = {
  1: (d: { email: string }) => ({ ...d, phone: null }),
  2: ({ email, ...rest }: { email: string; phone: string | null }) => ({ ...rest, address: email }),
};

const stored = (version: number, data: unknown, position = 1n): RecordedEvent =>
  ({
    streamId: 'contact-1',
    revision: 0n,
    position,
    type: 'ContactAdded',
    data,
    metadata: {
      eventId: `e-${position}`,
      correlationId: 'c',
      causationId: null,
      actor: SYSTEM_ACTOR,
      occurredAt: '2026-12-01T00:00:00.000Z',
      schemaVersion: version,
      orgId: 'o1',
    },
  }) as RecordedEvent;

describe('event upcasting: a tested example of each kind of schema change', () => {
  const registry = new EventRegistry().register('ContactAdded', 3, upcasters);

  it('given a v1 event, when read, then the added optional field has its default and the renamed field its new name', () => {
    const e = registry.upcast(stored(1, { email: 'ada@acme.test' }));
    expect(e.data).toEqual({ address: 'ada@acme.test', phone: null });
    expect(e.metadata.schemaVersion).toBe(3);
  });

  it('given a v2 event (with the added field), when read, then only the rename applies', () => {
    expect(registry.upcast(stored(2, { email: 'ada@acme.test', phone: '+33 1' })).data).toEqual({
      address: 'ada@acme.test',
      phone: '+33 1',
    });
  });

  it('given a current event, when read, then it is returned as stored', () => {
    const e = stored(3, { address: 'ada@acme.test', phone: null });
    expect(registry.upcast(e)).toBe(e);
  });

  it('given a version with no upcaster, when read, then reading fails loudly instead of handing on a wrong shape', () => {
    const gap = new EventRegistry().register('ContactAdded', 3, { 2: upcasters[2] });
    expect(() => gap.upcast(stored(1, { email: 'x' }))).toThrow(/no upcaster for ContactAdded v1/);
  });

  it('given old versions in a real event store, when a projection reads them, then it sees only the current shape', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'purser-upcast-'));
    const events = new SqliteEventStore(join(dir, 'e.db'), { pollIntervalMs: 20 });
    const reads = new SqliteReadStore(join(dir, 'r.db'));
    const seen: ContactV3[] = [];
    const projection: Projection = {
      name: 'contacts',
      collections: [],
      async handle(batch: RecordedEvent[], _store: ReadStore) {
        for (const e of batch) seen.push(e.data as ContactV3);
      },
    };
    const runner = new ProjectionRunner(events, reads, registry, [projection], {
      info: () => undefined,
      warn: () => undefined,
      error: () => undefined,
    });
    try {
      const meta = (v: number, id: string) => ({ ...stored(v, null).metadata, eventId: id });
      await events.append(
        'contact-1',
        [
          { type: 'ContactAdded', data: { email: 'a@x.test' }, metadata: meta(1, 'u1') },
          { type: 'ContactAdded', data: { email: 'b@x.test', phone: '2' }, metadata: meta(2, 'u2') },
        ],
        'no_stream',
      );
      const last = await events.append(
        'contact-1',
        [{ type: 'ContactAdded', data: { address: 'c@x.test', phone: null }, metadata: meta(3, 'u3') }],
        1n,
      );
      await runner.start();
      await new PositionWaiter(runner.checkpoints, runner).waitFor(last.position, ['contacts'], 5000);
      expect(seen).toEqual([
        { address: 'a@x.test', phone: null },
        { address: 'b@x.test', phone: '2' },
        { address: 'c@x.test', phone: null },
      ]);
    } finally {
      await runner.stop();
      await events.close();
      await reads.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
