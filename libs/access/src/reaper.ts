import {
  CollectionSpec,
  CommandContext,
  CommandExecutor,
  Filter,
  PositionWaiter,
  Projection,
  ReadStore,
  RecordedEvent,
  padPosition,
} from '@purser/core';
import { TeamDeleted, UserDeactivated, UserDeleted } from '@purser/directory';
import { apiKeyDecider } from './api-keys/api-key.decider';
import { API_KEYS, API_KEYS_PROJECTION, ApiKeyDoc } from './api-keys/api-keys.projection';
import { ACCESS_PROJECTION, SESSIONS, SessionDoc } from './sessions/projection';
import { sessionDecider } from './sessions/session.decider';
import { AccessStreams } from './streams';

export const ACCESS_REAPER = 'access-reaper';
/** How long the reaper waits for the sessions and keys read models to reach an event (then the batch is retried). */
const CATCH_UP_MS = 30_000;
const PAGE = 500;

type Reaped = UserDeactivated | UserDeleted | TeamDeleted;

/**
 * Makes a user's deactivation or deletion, and a team's deletion, permanent for access: the user's open sessions end
 * (SessionRevoked 'user-deactivated') and the keys they or the team own are revoked (ApiKeyRevoked 'owner-deactivated'
 * or 'owner-deleted'). The authenticator already refuses them from the moment of the event; this makes sure a
 * reactivated user's old sessions and keys stay dead. A reactor (it appends events), idempotent on redelivery and
 * replay: it acts only on sessions and keys started before the event's position (so a replayed deactivation never
 * touches what a reactivated user started since), and revoking what is revoked appends nothing.
 */
export class AccessReaper implements Projection {
  readonly name = ACCESS_REAPER;
  readonly filter = { eventTypes: ['UserDeactivated', 'UserDeleted', 'TeamDeleted'] };
  readonly collections: CollectionSpec[] = [];

  constructor(
    private readonly executor: CommandExecutor,
    private readonly waiter: PositionWaiter,
  ) {}

  async handle(events: RecordedEvent[], store: ReadStore): Promise<void> {
    if (!events.length) return;
    // The read models must hold every session and key started before the last event of the batch.
    await this.waiter.waitFor(
      events[events.length - 1].position,
      [ACCESS_PROJECTION, API_KEYS_PROJECTION],
      CATCH_UP_MS,
    );
    for (const e of events as RecordedEvent<Reaped>[]) {
      const before = padPosition(e.position);
      const ctx: CommandContext = {
        actor: e.metadata.actor,
        correlationId: e.metadata.correlationId,
        causationId: e.metadata.eventId,
        now: e.metadata.occurredAt,
      };
      const { orgId } = e.data;
      if (e.type === 'TeamDeleted') {
        await this.revokeKeys(
          store,
          ctx,
          orgId,
          { type: 'team', id: e.data.teamId },
          before,
          'owner-deleted',
        );
        continue;
      }
      const userId = e.data.userId;
      const sessions = await all<SessionDoc>(store, SESSIONS, {
        orgId,
        userId,
        revoked: false,
        startedPos: { $lt: before },
      });
      for (const s of sessions) {
        if (s.expiresAt <= ctx.now) continue;
        await this.executor.execute(
          AccessStreams.session(s._id),
          sessionDecider,
          { type: 'Revoke', reason: 'user-deactivated' },
          ctx,
          { orgId },
        );
      }
      const reason = e.type === 'UserDeleted' ? 'owner-deleted' : 'owner-deactivated';
      await this.revokeKeys(store, ctx, orgId, { type: 'user', id: userId }, before, reason);
    }
  }

  private async revokeKeys(
    store: ReadStore,
    ctx: CommandContext,
    orgId: string,
    owner: { type: 'user' | 'team'; id: string },
    before: string,
    reason: 'owner-deactivated' | 'owner-deleted',
  ): Promise<void> {
    const keys = await all<ApiKeyDoc>(store, API_KEYS, {
      orgId,
      ownerType: owner.type,
      ownerId: owner.id,
      revoked: false,
      createdPos: { $lt: before },
    });
    for (const k of keys) {
      await this.executor.execute(
        AccessStreams.apiKey(k._id),
        apiKeyDecider,
        { type: 'RevokeApiKey', reason },
        ctx,
        { orgId },
      );
    }
  }
}

async function all<T extends { _id: string }>(
  store: ReadStore,
  collection: string,
  filter: Filter,
): Promise<T[]> {
  const out: T[] = [];
  let cursor: string | null | undefined;
  do {
    const page = await store.find<T>(collection, filter, { limit: PAGE, cursor });
    out.push(...page.items);
    cursor = page.nextCursor;
  } while (cursor);
  return out;
}
