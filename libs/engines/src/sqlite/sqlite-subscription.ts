import { EventEmitter } from 'node:events';
import { AllBatch, ReadAllOptions, SubscribeOptions, Subscription } from '@purser/core';

/** What a subscription needs from the store. */
export interface PollingSource {
  /** Emits 'appended' after each append of this process's store. */
  emitter: EventEmitter;
  read(options: ReadAllOptions): AllBatch;
  closed(): boolean;
  coalesceMs: number;
  pollIntervalMs: number;
}

/**
 * The SQLite store's subscription: reads batches after its checkpoint until caught up, then waits for an append of
 * this process (coalesced) or a poll (appends of another process on the same file).
 */
export function pollingSubscription(
  source: PollingSource,
  options: SubscribeOptions,
  handler: (batch: AllBatch) => Promise<void>,
): Subscription {
  let stopped = false;
  let wake: (() => void) | null = null;
  // Appends in quick succession (quota checks append several times each) wake a caught-up subscription once per
  // coalescing window rather than once per append, so N subscriptions do not each re-read the store per append.
  let pending: NodeJS.Timeout | null = null;
  const onAppend = () => {
    if (pending || !wake) return;
    pending = setTimeout(() => {
      pending = null;
      wake?.();
    }, source.coalesceMs);
  };
  source.emitter.on('appended', onAppend);
  let after = options.after ?? -1n;
  // Appends by another process (API and worker on one file) are only seen by polling. Right after events came,
  // more are likely: poll again soon (2 ms, doubling while nothing comes) up to pollIntervalMs when idle.
  let idlePolls = 0;
  const loop = async () => {
    try {
      while (!stopped && !source.closed()) {
        const batch = source.read({
          after,
          filter: options.filter,
          maxCount: options.batchSize ?? 1000,
        });
        if (batch.checkpoint > after) {
          await handler(batch);
          after = batch.checkpoint;
          idlePolls = 0;
          continue;
        }
        const wait = Math.min(source.pollIntervalMs, 2 * 2 ** idlePolls++);
        await new Promise<void>((resolve) => {
          const timer = setTimeout(done, wait);
          wake = done;
          function done() {
            clearTimeout(timer);
            resolve();
          }
        });
        wake = null;
      }
    } finally {
      source.emitter.off('appended', onAppend);
      if (pending) clearTimeout(pending);
    }
  };
  const done = new Promise<void>((resolve) => setImmediate(resolve)).then(loop);
  done.catch(() => undefined);
  return {
    done,
    stop: async () => {
      stopped = true;
      wake?.();
      await done.catch(() => undefined);
    },
  };
}
