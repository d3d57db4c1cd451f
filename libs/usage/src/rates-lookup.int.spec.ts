import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CommandExecutor, EventRegistry, SYSTEM_ACTOR } from '@purser/core';
import { SqliteEventStore } from '@purser/engines';
import { ExchangeRateSet, USAGE_EVENT_TYPES, UsageStreams } from './events';
import { CachedRatesLookup } from './rates-lookup';

/** RatesLookup over the command executor's state cache, on a SQLite event store that another process also writes. */
describe('rates lookup (SQLite event store)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'purser-rates-'));
  let store: SqliteEventStore;
  let executor: CommandExecutor;
  let lookup: CachedRatesLookup;

  beforeEach(() => {
    store = new SqliteEventStore(join(dir, `${Date.now()}-${Math.random()}.sqlite`));
    executor = new CommandExecutor(store, new EventRegistry().registerAll(USAGE_EVENT_TYPES));
    lookup = new CachedRatesLookup(executor);
  });
  afterEach(() => store.close());
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  /** Sets a rate as another process would: straight to the store, behind the lookup's cache. */
  const setRate = async (
    orgId: string,
    currency: string,
    rate: string,
    effectiveFrom: string,
    base = 'EUR',
  ) => {
    const event: ExchangeRateSet = {
      type: 'ExchangeRateSet',
      data: { orgId, baseCurrency: base, currency, rate, effectiveFrom },
    };
    const ctx = { actor: SYSTEM_ACTOR, correlationId: 'seed', now: '2026-01-01T00:00:00.000Z' };
    await store.append(UsageStreams.rates(orgId), executor.toAppend([event], ctx, orgId), 'any');
  };

  it('given rates with effective dates, when asked at an instant, then the rate in force then, to the last decimal', async () => {
    await setRate('o1', 'USD', '0.917346251', '2026-01-01T00:00:00.000Z');
    await setRate('o1', 'USD', '0.95', '2026-03-01T00:00:00.000Z');
    await setRate('o1', 'GBP', '1.17', '2026-02-01T00:00:00.000Z');

    const rates = await lookup.rates('o1');

    expect(rates.orgId).toBe('o1');
    expect(rates.rateAt('EUR', 'USD', '2025-12-31T23:59:59.999Z')).toBeNull();
    expect(rates.rateAt('EUR', 'USD', '2026-01-01T00:00:00.000Z')).toBe('0.917346251');
    expect(rates.rateAt('EUR', 'USD', '2026-02-28T23:59:59.999Z')).toBe('0.917346251');
    expect(rates.rateAt('EUR', 'USD', '2026-03-01T00:00:00.000Z')).toBe('0.95');
    expect(rates.rateAt('EUR', 'GBP', '2026-06-01T00:00:00.000Z')).toBe('1.17');
    expect(await lookup.rateAt('o1', 'EUR', 'USD', '2026-02-01T00:00:00.000Z')).toBe('0.917346251');
  });

  it('given rates to one base currency, when asked for the base itself, another base, another currency or another org, then null', async () => {
    await setRate('o1', 'USD', '0.9', '2026-01-01T00:00:00.000Z');
    const at = '2026-06-01T00:00:00.000Z';

    expect(await lookup.rateAt('o1', 'EUR', 'EUR', at)).toBeNull();
    expect(await lookup.rateAt('o1', 'CHF', 'USD', at)).toBeNull();
    expect(await lookup.rateAt('o1', 'EUR', 'JPY', at)).toBeNull();
    expect(await lookup.rateAt('o2', 'EUR', 'USD', at)).toBeNull();
  });

  it("given a cached view, when another process sets a rate, then 'current' sees it", async () => {
    await setRate('o1', 'USD', '0.9', '2026-01-01T00:00:00.000Z');
    expect(await lookup.rateAt('o1', 'EUR', 'USD', '2026-06-01T00:00:00.000Z')).toBe('0.9');

    await setRate('o1', 'USD', '0.8', '2026-05-01T00:00:00.000Z');

    expect(await lookup.rateAt('o1', 'EUR', 'USD', '2026-06-01T00:00:00.000Z', 'current')).toBe('0.8');
  });

  it("given a caught-up cache, when another process sets a rate, then 'recent' answers as of the last catch-up without reading, and the next catch-up brings it", async () => {
    await setRate('o1', 'USD', '0.9', '2026-01-01T00:00:00.000Z');
    await executor.catchUp();
    expect(await lookup.rateAt('o1', 'EUR', 'USD', '2026-06-01T00:00:00.000Z', 'recent')).toBe('0.9');
    await setRate('o1', 'USD', '0.8', '2026-05-01T00:00:00.000Z');
    const reads = jest.spyOn(store, 'readStream');

    expect(await lookup.rateAt('o1', 'EUR', 'USD', '2026-06-01T00:00:00.000Z', 'recent')).toBe('0.9');
    await executor.catchUp();
    expect(await lookup.rateAt('o1', 'EUR', 'USD', '2026-06-01T00:00:00.000Z', 'recent')).toBe('0.8');
    expect(reads).not.toHaveBeenCalled();
  });

  it("given no catch-up yet, when asked 'recent', then it reads the stream like 'current'", async () => {
    await lookup.rates('o1', 'recent');
    await setRate('o1', 'USD', '0.9', '2026-01-01T00:00:00.000Z');

    expect(await lookup.rateAt('o1', 'EUR', 'USD', '2026-06-01T00:00:00.000Z', 'recent')).toBe('0.9');
  });
});
