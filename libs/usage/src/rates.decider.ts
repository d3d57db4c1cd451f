import { Decider, RuleViolationError, refuse } from '@purser/core';
import { ExchangeRateSet } from './events';

export interface RatesState {
  /** `${currency}@${effectiveFrom}` -> rate */
  set: ReadonlyMap<string, string>;
}

export interface SetExchangeRate {
  type: 'SetExchangeRate';
  orgId: string;
  baseCurrency: string;
  currency: string;
  rate: string;
  effectiveFrom: string;
}

/** An org's exchange rates to its base currency, with effective dates. Setting the same rate again changes nothing. */
export const ratesDecider: Decider<SetExchangeRate, RatesState, ExchangeRateSet> = {
  initialState: () => ({ set: new Map() }),
  decide(c, state) {
    if (c.currency === c.baseCurrency) {
      return refuse(
        new RuleViolationError(`${c.currency} is the org's base currency; its rate is always 1`, [
          { field: 'currency', problem: 'is the base currency' },
        ]),
      );
    }
    if (state.set.get(`${c.baseCurrency}>${c.currency}@${c.effectiveFrom}`) === c.rate) return [];
    const { type: _t, ...data } = c;
    return [{ type: 'ExchangeRateSet', data }];
  },
  evolve(state, e) {
    const set = new Map(state.set);
    set.set(`${e.data.baseCurrency}>${e.data.currency}@${e.data.effectiveFrom}`, e.data.rate);
    return { set };
  },
};

/** The rate in force at an instant for currency -> base, or null when none is set yet. */
export function rateAt(state: RatesState, baseCurrency: string, currency: string, at: string): string | null {
  const prefix = `${baseCurrency}>${currency}@`;
  let best: { from: string; rate: string } | null = null;
  for (const [key, rate] of state.set) {
    if (!key.startsWith(prefix)) continue;
    const from = key.slice(prefix.length);
    if (from <= at && (!best || from > best.from)) best = { from, rate };
  }
  return best?.rate ?? null;
}
