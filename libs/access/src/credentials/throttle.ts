import { Injectable } from '@nestjs/common';

/**
 * Slows failed sign-ins down, per account and per source address, before the account lock engages: each failure
 * doubles the wait of the next answer (from 100 ms, at most 3 s). Per address it is kept in memory (a window of
 * 15 minutes), per account it comes from the account's consecutive failures (events), so it holds across servers.
 */
@Injectable()
export class SignInThrottle {
  private readonly byAddress = new Map<string, { failures: number; since: number }>();
  static readonly BASE_MS = 100;
  static readonly MAX_MS = 3_000;
  static readonly WINDOW_MS = 15 * 60_000;

  /** The delay owed before answering a failure, given the account's failures and the address's. */
  delayFor(accountFailures: number, address: string, now = Date.now()): number {
    const entry = this.byAddress.get(address);
    const addressFailures = entry && now - entry.since < SignInThrottle.WINDOW_MS ? entry.failures : 0;
    const n = Math.max(accountFailures, addressFailures);
    if (n <= 0) return 0;
    return Math.min(SignInThrottle.MAX_MS, SignInThrottle.BASE_MS * 2 ** Math.min(n - 1, 10));
  }

  failed(address: string, now = Date.now()): void {
    const entry = this.byAddress.get(address);
    if (!entry || now - entry.since >= SignInThrottle.WINDOW_MS)
      this.byAddress.set(address, { failures: 1, since: now });
    else entry.failures++;
    if (this.byAddress.size > 100_000) this.prune(now);
  }

  succeeded(address: string): void {
    this.byAddress.delete(address);
  }

  private prune(now: number): void {
    for (const [k, v] of this.byAddress)
      if (now - v.since >= SignInThrottle.WINDOW_MS) this.byAddress.delete(k);
  }
}

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));
