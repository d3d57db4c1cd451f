import {
  CollectionSpec,
  Projection,
  ReadStore,
  RecordedEvent,
  UpdateOp,
  padPosition,
  positionGuard,
} from '@purser/core';
import { SessionEvent } from '../events';

export const ACCESS_PROJECTION = 'access-sessions';
export const SESSIONS = 'access_sessions';

/** A session as listed to its user and to administrators (no token material: digests stay in the event store). */
export interface SessionDoc {
  _id: string;
  orgId: string;
  userId: string;
  method: string;
  ip: string;
  userAgent: string | null;
  startedAt: string;
  expiresAt: string;
  lastRefreshedAt: string | null;
  refreshes: number;
  revoked: boolean;
  revokedReason: string | null;
  revokedAt: string | null;
  /** The position of SessionStarted: the reaper ends only sessions started before the event it handles. */
  startedPos: string;
  _pos: string;
}

/** Sessions by user, for "where am I signed in" and for ending them all (password change, reset, deactivation). */
export class AccessSessionsProjection implements Projection {
  readonly name = ACCESS_PROJECTION;
  readonly filter = { eventTypes: ['SessionStarted', 'SessionRefreshed', 'SessionRevoked'] };
  readonly collections: CollectionSpec[] = [
    { name: SESSIONS, arrays: [], indexes: [{ fields: { orgId: 1, userId: 1, revoked: 1, startedAt: 1 } }] },
  ];

  async handle(events: RecordedEvent[], store: ReadStore): Promise<void> {
    const ops: UpdateOp[] = [];
    for (const e of events as RecordedEvent<SessionEvent>[]) {
      const at = e.metadata.occurredAt;
      const _pos = padPosition(e.position);
      const guard = positionGuard(e.position);
      switch (e.type) {
        case 'SessionStarted': {
          const d = e.data;
          ops.push({
            id: d.sessionId,
            update: {
              $set: {
                orgId: d.orgId,
                userId: d.userId,
                method: d.method,
                ip: d.origin.ip,
                userAgent: d.origin.userAgent,
                startedAt: at,
                expiresAt: d.expiresAt,
                lastRefreshedAt: null,
                refreshes: 0,
                revoked: false,
                revokedReason: null,
                revokedAt: null,
                startedPos: _pos,
                _pos,
              },
            },
            options: { upsert: true, guard },
          });
          break;
        }
        case 'SessionRefreshed':
          ops.push({
            id: e.data.sessionId,
            update: { $set: { lastRefreshedAt: at, refreshes: e.data.generation, _pos } },
            options: { guard },
          });
          break;
        case 'SessionRevoked':
          ops.push({
            id: e.data.sessionId,
            update: { $set: { revoked: true, revokedReason: e.data.reason, revokedAt: at, _pos } },
            options: { guard },
          });
          break;
      }
    }
    if (ops.length) await store.bulkUpdate(SESSIONS, ops);
  }
}
