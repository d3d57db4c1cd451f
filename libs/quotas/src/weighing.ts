import { convertNanos, parseRate, periodBounds, toNanos } from '@purser/core';
import { QuotaDefinition, QuotaPeriod } from './events';

/** What a usage or a check's estimate says it spends. */
export interface Spend {
  amount?: string;
  currency?: string;
  tokens?: number;
}

/** The period of a quota in force at an instant, in the org's time zone ('all' for a quota without period). */
export function periodOf(q: { period: QuotaPeriod }, at: string | number, timeZone: string) {
  if (q.period === 'none') return { key: 'all', start: null, end: null };
  return periodBounds(q.period, at, timeZone);
}

/** Whether weighing this spend on these quotas needs an exchange rate (a cost quota, an amount in another currency). */
export function needsRate(quotas: readonly QuotaDefinition[], u: Spend, baseCurrency: string): boolean {
  return (
    u.amount !== undefined &&
    u.currency !== undefined &&
    u.currency !== baseCurrency &&
    quotas.some((q) => q.metric === 'cost')
  );
}

/**
 * The amount a usage or an estimate weighs on a quota, in its metric (nano-units); null when it cannot be weighed
 * (no tokens for a tokens quota, no amount, or no rate from its currency to the base currency).
 * `rate`: the rate from the spend's currency to the base currency at its instant (see needsRate).
 */
export function weigh(
  q: QuotaDefinition,
  u: Spend,
  baseCurrency: string,
  rate: string | null,
): bigint | null {
  if (q.metric === 'requests') return 1_000_000_000n;
  if (q.metric === 'tokens') return u.tokens === undefined ? null : BigInt(u.tokens) * 1_000_000_000n;
  if (u.amount === undefined || u.currency === undefined) return null;
  const nanos = toNanos(u.amount);
  if (u.currency === baseCurrency) return nanos;
  return rate === null ? null : convertNanos(nanos, parseRate(rate)!);
}
