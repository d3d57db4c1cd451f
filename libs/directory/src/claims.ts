import { Injectable } from '@nestjs/common';
import { CommandContext, CommandExecutor } from '@purser/core';
import { accepted } from '@purser/core';
import { claimDecider } from './claim.decider';
import { ClaimKind } from './events';
import { Streams, normalizeUnique } from './streams';

/** A claim left by a crashed command (its owner never used the value) may be taken over after this long. */
const STALE_AFTER_MS = 60_000;

/**
 * Unique values across aggregates (org names, usernames, emails). A claim is its own stream, raced with
 * optimistic concurrency, so uniqueness holds across API instances without any multi-stream transaction.
 * Commands acquire first, then append their own events, and release on failure.
 */
@Injectable()
export class Claims {
  constructor(private readonly executor: CommandExecutor) {}

  /** Decides the acquisition on the current state without appending: throws 409 when the value is taken. */
  async check(
    kind: ClaimKind,
    value: string,
    ownerId: string,
    ctx: CommandContext,
    /** Does this holder still use the value? Asked only when another owner holds it. */
    holderUses: (holderId: string) => Promise<boolean>,
  ) {
    const streamId = Streams.claim(kind, normalizeUnique(value));
    const { state } = await this.executor.current(streamId, claimDecider);
    let holderIsStale = false;
    if (state.holder && state.holder !== ownerId) {
      const age = state.acquiredAt ? Date.parse(ctx.now) - Date.parse(state.acquiredAt) : Infinity;
      holderIsStale = age > STALE_AFTER_MS && !(await holderUses(state.holder));
    }
    const command = { type: 'Acquire' as const, kind, value, ownerId, holderIsStale };
    accepted(claimDecider.decide(command, state));
    return { streamId, command };
  }

  async acquire(
    kind: ClaimKind,
    value: string,
    ownerId: string,
    ctx: CommandContext,
    holderUses: (holderId: string) => Promise<boolean>,
  ): Promise<void> {
    const { streamId, command } = await this.check(kind, value, ownerId, ctx, holderUses);
    await this.executor.execute(streamId, claimDecider, command, ctx, { orgId: null });
  }

  async release(kind: ClaimKind, value: string, ownerId: string, ctx: CommandContext): Promise<void> {
    await this.executor.execute(
      Streams.claim(kind, normalizeUnique(value)),
      claimDecider,
      { type: 'Release', kind, ownerId },
      ctx,
      {
        orgId: null,
      },
    );
  }

  /** Runs `work` holding new claims; releases them if it fails, and releases the replaced values if it succeeds. */
  async swap<T>(
    ctx: CommandContext,
    ownerId: string,
    changes: Array<{
      kind: ClaimKind;
      from: string | null;
      to: string | null;
      holderUses: (holderId: string) => Promise<boolean>;
    }>,
    work: () => Promise<T>,
  ): Promise<T> {
    const moving = changes.filter(
      (c) => c.to !== null && (c.from === null || normalizeUnique(c.from) !== normalizeUnique(c.to)),
    );
    // Refuse a taken value before writing anything: a refused request appends nothing.
    for (const c of moving) await this.check(c.kind, c.to!, ownerId, ctx, c.holderUses);
    const acquired: typeof moving = [];
    try {
      for (const c of moving) {
        await this.acquire(c.kind, c.to!, ownerId, ctx, c.holderUses);
        acquired.push(c);
      }
    } catch (err) {
      for (const c of acquired) await this.release(c.kind, c.to!, ownerId, ctx).catch(() => undefined);
      throw err;
    }
    let result: T;
    try {
      result = await work();
    } catch (err) {
      for (const c of acquired) await this.release(c.kind, c.to!, ownerId, ctx).catch(() => undefined);
      throw err;
    }
    for (const c of acquired) if (c.from !== null) await this.release(c.kind, c.from, ownerId, ctx);
    return result;
  }
}
