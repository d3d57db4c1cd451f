import { Inject, Injectable } from '@nestjs/common';
import { CommandContext, EVENT_STORE, EventStore, PositionWaiter, READ_STORE, ReadStore } from '@purser/core';
import { ACCESS_PROJECTION } from './projection';
import { SessionRevokeReason } from '../events';
import { SESSIONS, SessionDoc } from './projection';
import { SessionIssuer } from './sessions';

export interface SessionView {
  sessionId: string;
  userId: string;
  method: string;
  ip: string;
  userAgent: string | null;
  startedAt: string;
  expiresAt: string;
  lastRefreshedAt: string | null;
  current: boolean;
}

export function sessionView(d: SessionDoc, currentSessionId?: string): SessionView {
  return {
    sessionId: d._id,
    userId: d.userId,
    method: d.method,
    ip: d.ip,
    userAgent: d.userAgent,
    startedAt: d.startedAt,
    expiresAt: d.expiresAt,
    lastRefreshedAt: d.lastRefreshedAt,
    current: d._id === currentSessionId,
  };
}

/** A user's open sessions (from the sessions read model), and ending them all at once. */
@Injectable()
export class OpenSessions {
  constructor(
    @Inject(READ_STORE) private readonly store: ReadStore,
    @Inject(EVENT_STORE) private readonly events: EventStore,
    private readonly waiter: PositionWaiter,
    private readonly issuer: SessionIssuer,
  ) {}

  /** Waits until the sessions read model holds every session started before now (at most a few seconds). */
  async settled(): Promise<void> {
    await this.waiter.waitFor(await this.events.headPosition(), [ACCESS_PROJECTION], 5_000);
  }

  async list(orgId: string, userId: string, now: string): Promise<SessionDoc[]> {
    const out: SessionDoc[] = [];
    let cursor: string | undefined;
    do {
      const page = await this.store.find<SessionDoc>(
        SESSIONS,
        { orgId, userId, revoked: false },
        { sort: { startedAt: -1 }, limit: 500, cursor },
      );
      out.push(...page.items.filter((d) => d.expiresAt > now));
      cursor = page.nextCursor ?? undefined;
    } while (cursor);
    return out;
  }

  /**
   * Ends every open session of a user but `except` (the caller's own, when they changed their password), once the
   * read model has caught up with every session started before the call.
   */
  async endAll(
    ctx: CommandContext,
    orgId: string,
    userId: string,
    reason: SessionRevokeReason,
    except?: string,
  ) {
    await this.settled();
    let ended = 0;
    for (const s of await this.list(orgId, userId, ctx.now)) {
      if (s._id === except) continue;
      if (await this.issuer.revoke(ctx, s._id, reason, orgId)) ended++;
    }
    return ended;
  }
}
