import { Injectable } from '@nestjs/common';
import { CommandExecutor } from '@purser/core';
import type { Freshness } from '@purser/directory';
import { UsageStreams } from './events';
import { RatesState, rateAt, ratesDecider } from './rates.decider';

/** An org's exchange rates, as read at once: ask it for as many currencies and instants as needed. */
export interface RatesView {
  readonly orgId: string;
  /**
   * The rate in force at `at` (an ISO instant) for one unit of `currency` in `baseCurrency` (a decimal string), or
   * null when none is set by then. The base currency's own rate is never set (it is 1): null too.
   */
  rateAt(baseCurrency: string, currency: string, at: string): string | null;
}

/**
 * What other contexts may ask of usage: the exchange rates an org has set, from the folded rates stream the
 * command executor caches ('current': every rate set before the call; 'recent': as of the state cache's last
 * catch-up, see StateCache.recent).
 */
export abstract class RatesLookup {
  abstract rates(orgId: string, freshness?: Freshness): Promise<RatesView>;
  /** See RatesView.rateAt. */
  abstract rateAt(
    orgId: string,
    baseCurrency: string,
    currency: string,
    at: string,
    freshness?: Freshness,
  ): Promise<string | null>;
}

// One view per folded state (states are immutable, and each stream folds its own).
const views = new WeakMap<RatesState, RatesView>();

function viewOf(orgId: string, state: RatesState): RatesView {
  let view = views.get(state);
  if (!view) {
    view = { orgId, rateAt: (base, currency, at) => rateAt(state, base, currency, at) };
    views.set(state, view);
  }
  return view;
}

/** RatesLookup over the command executor's state cache. */
@Injectable()
export class CachedRatesLookup extends RatesLookup {
  constructor(private readonly executor: CommandExecutor) {
    super();
  }

  async rates(orgId: string, freshness: Freshness = 'current'): Promise<RatesView> {
    const stream = UsageStreams.rates(orgId);
    const folded =
      freshness === 'recent'
        ? await this.executor.recent(stream, ratesDecider)
        : await this.executor.current(stream, ratesDecider);
    return viewOf(orgId, folded.state);
  }

  async rateAt(orgId: string, baseCurrency: string, currency: string, at: string, freshness?: Freshness) {
    return (await this.rates(orgId, freshness)).rateAt(baseCurrency, currency, at);
  }
}
