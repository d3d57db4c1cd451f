import { randomUUID } from 'node:crypto';
import fc from 'fast-check';
import { CURRENCY_CODES } from '@purser/core';
import { Api, TestServer, startTestServer } from '@purser/testkit';

/**
 * Property: whatever the command side accepts at its bounds (the largest amounts, the most decimals, the largest and
 * smallest rates, many events in one bucket, every ISO 4217 currency, base currency or not, with or without a rate),
 * every projection that consumes usage, rates and quota events (expenditure, quota-usage, quota-decisions,
 * quota-alerts) handles it on the embedded engines: none fails, and the reports equal an independent bigint sum.
 */

// Independent exact arithmetic in nano-units (not money.ts).
const nanos = (s: string) => {
  const [int, frac = ''] = s.split('.');
  return BigInt(int) * 1_000_000_000n + BigInt(frac.padEnd(9, '0'));
};
const rateUnits = (s: string) => {
  const [int, frac = ''] = s.split('.');
  return BigInt(int) * 10n ** 12n + BigInt(frac.padEnd(12, '0'));
};
/** amount x rate, half to even at 9 places. */
const convert = (n: bigint, rate: string) => {
  const p = n * rateUnits(rate);
  const d = 10n ** 12n;
  let q = p / d;
  const r2 = (p % d) * 2n;
  if (r2 > d || (r2 === d && q % 2n === 1n)) q += 1n;
  return q;
};
const format = (n: bigint) => {
  const int = n / 1_000_000_000n;
  const frac = (n % 1_000_000_000n).toString().padStart(9, '0').replace(/0+$/, '');
  return frac ? `${int}.${frac}` : `${int}`;
};

const LARGEST_AMOUNT = '999999999999999999.999999999';
const LARGEST_RATE = '999999999999.999999999999';
/** Base currencies the directory accepts for an org (its own check) among the ISO list. */
const INTL = new Set<string>(Intl.supportedValuesOf('currency'));
const BASES = [...CURRENCY_CODES].filter((c) => INTL.has(c));
const ALL = [...CURRENCY_CODES];

const decimal = (maxInt: bigint, maxFrac: number) =>
  fc
    .tuple(fc.bigInt({ min: 0n, max: maxInt }), fc.integer({ min: 0, max: maxFrac }), fc.bigInt({ min: 0n }))
    .map(([int, k, f]) =>
      k === 0 ? `${int}` : `${int}.${(f % 10n ** BigInt(k)).toString().padStart(k, '0')}`,
    );
const amount = fc.oneof(
  fc.constant(LARGEST_AMOUNT),
  fc.constant('999999999999999999'),
  fc.constant('0.000000001'),
  fc.constant('0'),
  decimal(10n ** 18n - 1n, 9),
);
const rate = fc
  .oneof(
    fc.constant(LARGEST_RATE),
    fc.constant('0.000000000001'),
    fc.constant('1'),
    decimal(10n ** 12n - 1n, 12),
  )
  .filter((r) => rateUnits(r) > 0n);

describe('money property: accepted commands at their bounds never stop a projection (embedded engines)', () => {
  let server: TestServer;
  let api: Api;
  beforeAll(async () => {
    server = await startTestServer({
      env: { MONGODB_URL: undefined, KAFKA_BROKERS: undefined, EVENTSTORE_URL: undefined },
    });
    api = server.api;
  });
  afterAll(async () => {
    await server?.stop();
    server?.cleanup();
  });

  const ok = async (status: number, res: Promise<{ status: number; body: any }>) => {
    const r = await res;
    if (r.status !== status)
      throw new Error(`expected ${status}, got ${r.status}: ${JSON.stringify(r.body)}`);
    return r.body;
  };

  /** One org with a user, a soft org quota and a hard user quota at the largest limit, lifetime. */
  async function world(baseCurrency: string) {
    const orgId = (
      await ok(201, api.post('/v1/orgs', { name: `P ${randomUUID()}`, baseCurrency, timeZone: 'UTC' }))
    ).id as string;
    const userId = (
      await ok(
        201,
        api.post(`/v1/orgs/${orgId}/users`, {
          username: `p${randomUUID().slice(0, 8)}`,
          email: `${randomUUID()}@p.test`,
        }),
      )
    ).id as string;
    const soft = (
      await ok(
        201,
        api.post(`/v1/orgs/${orgId}/quotas`, {
          entityType: 'Org',
          entityId: orgId,
          metric: 'cost',
          period: 'none',
          limit: '1',
          enforcement: 'soft',
          thresholds: [50, 100],
        }),
      )
    ).id as string;
    const hard = (
      await ok(
        201,
        api.post(`/v1/orgs/${orgId}/quotas`, {
          entityType: 'User',
          entityId: userId,
          metric: 'cost',
          period: 'none',
          limit: LARGEST_AMOUNT,
        }),
      )
    ).id as string;
    return { orgId, userId, soft, hard, baseCurrency };
  }

  async function setRates(orgId: string, rates: Map<string, string>) {
    for (const [currency, r] of rates)
      await ok(
        201,
        api.post(`/v1/orgs/${orgId}/exchange-rates`, {
          currency,
          rate: r,
          effectiveFrom: '2026-01-01T00:00:00Z',
        }),
      );
  }

  /** Posts the events (in batches of 1,000), then checks every report against the bigint sums. */
  async function spendAndVerify(
    w: Awaited<ReturnType<typeof world>>,
    rates: Map<string, string>,
    events: Array<{ amount: string; currency: string; hour: number }>,
    estimate: { amount: string; currency: string } | null,
  ) {
    const weight = (a: string, c: string) =>
      c === w.baseCurrency ? nanos(a) : rates.has(c) ? convert(nanos(a), rates.get(c)!) : null;
    let reserved = 0n;
    if (estimate) {
      const wgt = weight(estimate.amount, estimate.currency)!;
      const res = await api.post(`/v1/orgs/${w.orgId}/quota-checks`, {
        userId: w.userId,
        itemType: 'Agent',
        itemId: 'a1',
        estimate,
      });
      // The hard quota refuses what passes its limit (429, audited); otherwise both quotas hold the estimate.
      expect(res.status).toBe(wgt > nanos(LARGEST_AMOUNT) ? 429 : 200);
      if (res.status === 200) reserved = wgt;
    }
    let position = '0';
    for (let i = 0; i < events.length; i += 1000) {
      const body = await ok(
        200,
        api.post('/v1/usage', {
          events: events.slice(i, i + 1000).map((e) => ({
            eventId: randomUUID(),
            orgId: w.orgId,
            userId: w.userId,
            itemType: 'Agent',
            itemId: 'a1',
            amount: e.amount,
            currency: e.currency,
            occurredAt: `2026-03-10T${String(e.hour).padStart(2, '0')}:15:00Z`,
          })),
        }),
      );
      expect(body.recorded).toBe(Math.min(1000, events.length - i));
      position = body.position;
    }
    const amounts = new Map<string, bigint>();
    const unconverted = new Map<string, bigint>();
    let base = 0n;
    for (const e of events) {
      amounts.set(e.currency, (amounts.get(e.currency) ?? 0n) + nanos(e.amount));
      const wgt = weight(e.amount, e.currency);
      if (wgt === null) unconverted.set(e.currency, (unconverted.get(e.currency) ?? 0n) + nanos(e.amount));
      else base += wgt;
    }
    const list = (m: Map<string, bigint>) =>
      [...m].sort(([x], [y]) => (x < y ? -1 : 1)).map(([currency, v]) => ({ amount: format(v), currency }));
    const figure = {
      amounts: list(amounts),
      base: {
        amount: format(base),
        currency: w.baseCurrency,
        complete: unconverted.size === 0,
        unconverted: list(unconverted),
      },
      count: events.length,
    };
    const q = `from=2026-03-10&to=2026-03-11&minPosition=${position}`;
    const byHour = await ok(200, api.get(`/v1/orgs/${w.orgId}/expenditure?${q}&groupBy=hour`));
    expect(byHour.total).toEqual(figure);
    expect(byHour.rows.reduce((n: number, r: { count: number }) => n + r.count, 0)).toBe(events.length);
    expect((await ok(200, api.get(`/v1/orgs/${w.orgId}/expenditure?${q}&groupBy=user`))).total).toEqual(
      figure,
    );
    // Two dimensions: summed from the records (their base amounts).
    const crossed = await ok(200, api.get(`/v1/orgs/${w.orgId}/expenditure?${q}&groupBy=user&groupBy=item`));
    expect(crossed.total).toEqual(figure);
    const top = await ok(200, api.get(`/v1/orgs/${w.orgId}/expenditure/top?by=user&${q}`));
    expect(top.items[0]).toMatchObject({ user: w.userId, base: figure.base });
    for (const quotaId of [w.soft, w.hard]) {
      const view = await ok(200, api.get(`/v1/orgs/${w.orgId}/quotas/${quotaId}?minPosition=${position}`));
      expect(view).toMatchObject({ used: format(base), reserved: format(reserved) });
    }
    const health = await api.get('/health');
    expect(health.body.projections.filter((p: { state: string }) => p.state !== 'running')).toEqual([]);
    expect(health.status).toBe(200);
  }

  it('given generated usage, rates and checks at the bounds, then every projection keeps up and every figure is the exact sum', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom(...BASES),
        fc.uniqueArray(fc.constantFrom(...ALL), { minLength: 1, maxLength: 4 }),
        fc.array(rate, { minLength: 4, maxLength: 4 }),
        fc.array(fc.boolean(), { minLength: 4, maxLength: 4 }),
        fc.array(fc.tuple(amount, fc.nat(), fc.integer({ min: 0, max: 2 })), { minLength: 1, maxLength: 40 }),
        fc.option(amount, { nil: null }),
        async (baseCurrency, others, rateList, withRate, spends, estimateAmount) => {
          const w = await world(baseCurrency);
          const currencies = [baseCurrency, ...others.filter((c) => c !== baseCurrency)];
          const rates = new Map<string, string>();
          currencies.slice(1).forEach((c, i) => withRate[i] && rates.set(c, rateList[i]));
          await setRates(w.orgId, rates);
          const events = spends.map(([a, pick, hour]) => ({
            amount: a,
            currency: currencies[pick % currencies.length],
            hour: 10 + hour,
          }));
          // The estimate in the converted currency with the largest rate when there is one (the largest weight).
          const rated = [...rates].sort(([, x], [, y]) => (rateUnits(y) > rateUnits(x) ? 1 : -1))[0];
          const estimate =
            estimateAmount === null ? null : { amount: estimateAmount, currency: rated?.[0] ?? baseCurrency };
          await spendAndVerify(w, rates, events, estimate);
        },
      ),
      { numRuns: 25, seed: 4217, endOnFailure: true },
    );
  });

  it('given 2,000 of the largest amounts in one hour, in the base currency and at the largest rate, and a check at the largest weight, then the sums are exact', async () => {
    const w = await world('USD');
    const rates = new Map([['EUR', LARGEST_RATE]]);
    await setRates(w.orgId, rates);
    const events = Array.from({ length: 2000 }, (_, i) => ({
      amount: LARGEST_AMOUNT,
      currency: i % 2 ? 'EUR' : 'USD',
      hour: 10,
    }));
    await spendAndVerify(w, rates, events, { amount: LARGEST_AMOUNT, currency: 'EUR' });
  });

  it('given every currency of the ISO 4217 list, with and without a rate, then each is recorded and reported exactly', async () => {
    const w = await world('EUR');
    const rates = new Map<string, string>();
    ALL.filter((c) => c !== 'EUR').forEach(
      (c, i) => i % 2 === 0 && rates.set(c, i % 4 ? LARGEST_RATE : '0.5'),
    );
    await setRates(w.orgId, rates);
    const events = ALL.map((currency, i) => ({
      amount: i % 3 ? LARGEST_AMOUNT : '0.000000001',
      currency,
      hour: 11,
    }));
    await spendAndVerify(w, rates, events, null);
  });
});
