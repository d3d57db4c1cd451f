import { CommandExecutor, EventRegistry } from '@purser/core';
import { SqliteEventStore } from '@purser/engines';
import { CachedDirectoryLookup } from '@purser/directory';
import { ProjectionHost, PurserConfig, PurserLogger, loadConfig } from '@purser/platform';
import { UsageIngest } from './ingest';

const ctx = {
  actor: { type: 'system' as const, id: 'test' },
  correlationId: 'c',
  causationId: null,
  now: new Date().toISOString(),
};

function ingestWith(lags: bigint[], env: Record<string, string>) {
  const store = new SqliteEventStore(':memory:');
  const asked: bigint[] = [];
  const host = {
    lagFor: async (type: string) => {
      expect(type).toBe('UsageRecorded');
      const lag = lags.length > 1 ? lags.shift()! : lags[0];
      asked.push(lag);
      return lag;
    },
  } as unknown as ProjectionHost;
  const warnings: string[] = [];
  const logger = { warn: (_: unknown, msg: string) => warnings.push(msg) } as unknown as PurserLogger;
  const config: PurserConfig = loadConfig(env);
  const executor = new CommandExecutor(store, new EventRegistry());
  const ingest = new UsageIngest(
    new CachedDirectoryLookup(executor, store),
    executor,
    store,
    host,
    config,
    logger,
  );
  return { ingest, asked, warnings, store };
}

const event = {
  eventId: 'e-1',
  orgId: 'org-1',
  userId: 'user-1',
  itemType: 'Tool',
  itemId: 't',
  amount: '1',
  currency: 'EUR',
  occurredAt: new Date().toISOString(),
};

describe('usage ingest backpressure', () => {
  it('given the usage projections far behind, when a batch arrives, then it waits until they are within the bound', async () => {
    const { ingest, asked, warnings, store } = ingestWith([50n, 30n, 10n], { PURSER_INGEST_MAX_LAG: '20' });
    const res = await ingest.record([event], ctx);
    expect(asked).toEqual([50n, 30n, 10n]);
    expect(warnings).toEqual([]);
    // Then it goes on as usual (here the org is unknown, so the event is refused, and nothing is appended).
    expect(res.results[0]).toMatchObject({ status: 'rejected', code: 'refused' });
    expect(await store.headPosition()).toBe(-1n);
    await store.close();
  });

  it('given the projections stuck (a stopped worker), when the wait runs out, then the batch goes on and one warning is logged', async () => {
    const { ingest, asked, warnings, store } = ingestWith([1000n], {
      PURSER_INGEST_MAX_LAG: '20',
      PURSER_INGEST_MAX_WAIT_MS: '30',
    });
    await ingest.record([event], ctx);
    await ingest.record([event], ctx);
    expect(asked.length).toBeGreaterThan(2);
    expect(warnings).toEqual(['usage projections are far behind; recording usage without waiting for them']);
    await store.close();
  });

  it('given backpressure switched off, then the lag is never asked', async () => {
    const { ingest, asked, store } = ingestWith([1000n], { PURSER_INGEST_MAX_LAG: '0' });
    await ingest.record([event], ctx);
    expect(asked).toEqual([]);
    await store.close();
  });
});
