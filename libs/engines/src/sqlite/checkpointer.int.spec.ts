import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SqliteReadStore } from './sqlite-read-store';
import { SqliteEventStore } from './sqlite-event-store';
import { usageEvent } from '@purser/testkit';

const dir = mkdtempSync(join(tmpdir(), 'purser-ckpt-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Size of the database file proper (the WAL aside): it only grows when a checkpoint copies pages into it. */
const fileSize = (path: string) => statSync(path).size;

async function until(check: () => boolean, ms: number): Promise<boolean> {
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) {
    if (check()) return true;
    await new Promise((r) => setTimeout(r, 25));
  }
  return check();
}

async function fill(store: SqliteReadStore, collection: string, n: number) {
  const docs = Array.from({ length: n }, (_, i) => ({ _id: `d${i}`, body: 'x'.repeat(400), i }));
  await store.insertMany(collection, docs);
}

describe('SQLite checkpoint thread', () => {
  it('given a read store without the thread, when fewer pages than the automatic checkpoint are written, then the database file does not grow', async () => {
    const path = join(dir, 'inline.db');
    const store = new SqliteReadStore(path);
    await store.ensureCollection({ name: 'docs' });
    const before = fileSize(path);
    await fill(store, 'docs', 2_000);
    await new Promise((r) => setTimeout(r, 600));
    expect(fileSize(path)).toBe(before);
    await store.close();
  });

  it('given a read store with the thread, when pages are written, then they reach the database file without the writer checkpointing, and everything is there after reopening', async () => {
    const path = join(dir, 'thread.db');
    const store = new SqliteReadStore(path, { checkpointThread: true });
    await store.ensureCollection({ name: 'docs' });
    const before = fileSize(path);
    await fill(store, 'docs', 2_000);
    expect(await until(() => fileSize(path) > before + 500_000, 5_000)).toBe(true);
    await store.close();
    const again = new SqliteReadStore(path);
    expect(await again.count('docs', {})).toBe(2_000);
    expect(await again.get('docs', 'd1999')).toMatchObject({ i: 1999 });
    await again.close();
  });

  it('given an event store with the thread, when events are appended and it is closed, then the thread stops and every event is read back', async () => {
    const path = join(dir, 'events.db');
    const store = new SqliteEventStore(path, { checkpointThread: true });
    const before = fileSize(path);
    for (let b = 0; b < 20; b++)
      await store.appendMany(
        Array.from({ length: 100 }, (_, i) => ({
          streamId: `s-${b}-${i}`,
          events: [usageEvent(`${b}.${i}`)],
          expected: 'no_stream' as const,
        })),
      );
    expect(await until(() => fileSize(path) > before, 5_000)).toBe(true);
    await store.close();
    await store.close(); // idempotent
    const again = new SqliteEventStore(path);
    expect(await again.headPosition()).toBe(2_000n);
    await again.close();
  });
});
