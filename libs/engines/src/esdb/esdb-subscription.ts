import {
  AllStreamResolvedEvent,
  AllStreamSubscription,
  ErrorType,
  ReadPosition,
  isCommandError,
} from '@eventstore/db-client';
import { AllBatch, EventFilter, Subscription } from '@purser/core';
import { AllScanner, takeBatch } from './esdb-scan';

export interface EsdbRetryOptions {
  initialDelayMs?: number;
  maxDelayMs?: number;
  /** Consecutive failed (re)subscriptions before the subscription gives up and `done` rejects. */
  maxAttempts?: number;
}

/** What a subscription needs from the store; an interface so the loop can be exercised without a server. */
export interface SubscriptionSource {
  resolveStart(after: bigint): Promise<ReadPosition>;
  open(from: ReadPosition): AllStreamSubscription;
}

export interface SubscriptionSettings {
  after: bigint;
  filter?: EventFilter;
  batchSize: number;
}

class HandlerFailure {
  constructor(readonly error: unknown) {}
}

/**
 * Catch-up then live subscription. One loop: take the events already buffered (up to batchSize), hand them to
 * the handler, await it, repeat. Between batches the stream is not read, so the client stops pulling from the
 * server (stream back-pressure) and the handler never runs concurrently. A stream error or end that is not a
 * stop is a connection drop: the loop resubscribes from the last handled checkpoint after a growing delay.
 * A handler error ends the subscription and rejects `done` with it.
 */
export class EsdbSubscription implements Subscription {
  readonly done: Promise<void>;
  private stopped = false;
  private current: AllStreamSubscription | null = null;
  private readonly wake = new Signal();
  private readonly stopSignal = new Signal();

  constructor(
    private readonly source: SubscriptionSource,
    private readonly settings: SubscriptionSettings,
    private readonly handler: (batch: AllBatch) => Promise<void>,
    private readonly retry: EsdbRetryOptions,
    private readonly onDrop?: (error: unknown, attempt: number) => void,
  ) {
    this.done = new Promise<void>((resolve) => setImmediate(resolve)).then(() => this.run());
    this.done.catch(() => undefined);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.wake.notify();
    this.stopSignal.notify();
    const current = this.current;
    if (current) void current.unsubscribe().catch(() => undefined);
    await this.done.catch(() => undefined);
  }

  private async run(): Promise<void> {
    let checkpoint = this.settings.after;
    let failures = 0;
    while (!this.stopped) {
      let sub: AllStreamSubscription | null = null;
      let drop: unknown;
      try {
        const from = await this.source.resolveStart(checkpoint);
        if (this.stopped) return;
        sub = this.source.open(from);
        this.current = sub;
        sub.on('confirmation', () => (failures = 0));
        drop = await this.pump(sub, checkpoint, (handled) => {
          checkpoint = handled;
          failures = 0;
        });
      } catch (err) {
        if (err instanceof HandlerFailure) throw err.error;
        drop = err;
      } finally {
        this.current = null;
        if (sub) await release(sub);
      }
      if (this.stopped) return;
      failures++;
      if (isFatal(drop) || failures >= (this.retry.maxAttempts ?? Infinity)) throw drop;
      this.onDrop?.(drop, failures);
      await this.stopSignal.wait(backoffDelay(failures, this.retry));
    }
  }

  /** Reads and handles batches until the stream fails or ends (returns why) or the subscription is stopped. */
  private async pump(
    sub: AllStreamSubscription,
    from: bigint,
    handled: (checkpoint: bigint) => void,
  ): Promise<unknown> {
    let checkpoint = from;
    let failure: unknown;
    let ended = false;
    sub.on('error', (err) => {
      failure ??= err;
      this.wake.notify();
    });
    sub.on('end', () => {
      ended = true;
      this.wake.notify();
    });
    sub.on('close', () => {
      ended = true;
      this.wake.notify();
    });
    sub.on('readable', () => this.wake.notify());

    let carry: AllStreamResolvedEvent | null = null;
    for (;;) {
      if (this.stopped) return undefined;
      const taken: { items: AllStreamResolvedEvent[]; carry: AllStreamResolvedEvent | null } = takeBatch(
        () => (sub.read() as AllStreamResolvedEvent | null) ?? null,
        this.settings.batchSize,
        sameCommit,
        carry,
      );
      carry = taken.carry;
      if (taken.items.length > 0) {
        const scanner = new AllScanner(checkpoint, this.settings.filter);
        for (const item of taken.items) if (item.event) scanner.offer(item.event);
        const batch = scanner.result();
        if (batch.checkpoint > checkpoint) {
          try {
            await this.handler(batch);
          } catch (err) {
            throw new HandlerFailure(err);
          }
          checkpoint = batch.checkpoint;
          handled(checkpoint);
        }
        continue;
      }
      if (failure !== undefined) return failure;
      if (ended) return new Error('EventStoreDB ended the subscription');
      await this.wake.wait();
    }
  }
}

async function release(sub: AllStreamSubscription): Promise<void> {
  // Keep a listener: the client may still forward a late error, and an unheard 'error' would crash the process.
  sub.on('error', () => undefined);
  await sub.unsubscribe().catch(() => undefined);
  sub.destroy();
}

function sameCommit(a: AllStreamResolvedEvent, b: AllStreamResolvedEvent): boolean {
  return !!a.event && !!b.event && a.event.position.commit === b.event.position.commit;
}

/** Errors a resubscription cannot cure. */
function isFatal(err: unknown): boolean {
  return (
    err instanceof Error &&
    isCommandError(err) &&
    [ErrorType.ACCESS_DENIED, ErrorType.INVALID_ARGUMENT, ErrorType.UNSUPPORTED].includes(err.type)
  );
}

/** A one-slot wake-up: notify() before wait() is not lost. */
class Signal {
  private pending = false;
  private waiter: (() => void) | null = null;

  notify(): void {
    this.pending = true;
    const waiter = this.waiter;
    this.waiter = null;
    waiter?.();
  }

  wait(timeoutMs?: number): Promise<void> {
    if (this.pending) {
      this.pending = false;
      return Promise.resolve();
    }
    return new Promise<void>((resolve) => {
      const finish = (): void => {
        if (timer) clearTimeout(timer);
        if (this.waiter === finish) this.waiter = null;
        this.pending = false;
        resolve();
      };
      const timer = timeoutMs === undefined ? undefined : setTimeout(finish, timeoutMs);
      this.waiter = finish;
    });
  }
}

export function backoffDelay(attempt: number, retry: EsdbRetryOptions = {}): number {
  const initial = retry.initialDelayMs ?? 100;
  const max = retry.maxDelayMs ?? 5000;
  return Math.min(max, initial * 2 ** Math.max(0, attempt - 1));
}
