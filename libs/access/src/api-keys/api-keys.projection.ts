import {
  CollectionSpec,
  Projection,
  ReadStore,
  RecordedEvent,
  UpdateOp,
  padPosition,
  positionGuard,
} from '@purser/core';
import { ApiKeyEvent, ApiKeyOwner } from '../events';

export const API_KEYS_PROJECTION = 'access-api-keys';
export const API_KEYS = 'access_api_keys';

/** An API key as listed to administrators: never its digests (they stay in the event store). */
export interface ApiKeyDoc {
  _id: string;
  orgId: string;
  name: string;
  owner: ApiKeyOwner;
  /** owner.type and owner.id, flat, for the reaper's queries. */
  ownerType: ApiKeyOwner['type'];
  ownerId: string;
  scopes: string[];
  expiresAt: string | null;
  createdAt: string;
  lastUsedAt: string | null;
  revoked: boolean;
  revokedAt: string | null;
  revokedReason: string | null;
  rotatedAt: string | null;
  /** The position of ApiKeyCreated: the reaper acts only on keys created before the event it handles. */
  createdPos: string;
  _pos: string;
}

/** API keys by org (the list) and by owner (the reaper). Every update is guarded by the event's position. */
export class AccessApiKeysProjection implements Projection {
  readonly name = API_KEYS_PROJECTION;
  readonly filter = { eventTypes: ['ApiKeyCreated', 'ApiKeyRotated', 'ApiKeyRevoked', 'ApiKeyUsed'] };
  readonly collections: CollectionSpec[] = [
    {
      name: API_KEYS,
      arrays: ['scopes'],
      indexes: [
        { fields: { orgId: 1, createdAt: 1 } },
        { fields: { orgId: 1, ownerType: 1, ownerId: 1, revoked: 1 } },
      ],
    },
  ];

  async handle(events: RecordedEvent[], store: ReadStore): Promise<void> {
    const ops: UpdateOp[] = [];
    for (const e of events as RecordedEvent<ApiKeyEvent>[]) {
      const at = e.metadata.occurredAt;
      const _pos = padPosition(e.position);
      const guard = positionGuard(e.position);
      const set = (fields: Record<string, unknown>, upsert = false) =>
        ops.push({
          id: e.data.keyId,
          update: { $set: { ...fields, _pos } },
          options: upsert ? { upsert: true, guard } : { guard },
        });
      switch (e.type) {
        case 'ApiKeyCreated': {
          const d = e.data;
          set(
            {
              orgId: d.orgId,
              name: d.name,
              owner: { type: d.owner.type, id: d.owner.id },
              ownerType: d.owner.type,
              ownerId: d.owner.id,
              scopes: [...d.scopes],
              expiresAt: d.expiresAt,
              createdAt: at,
              lastUsedAt: null,
              revoked: false,
              revokedAt: null,
              revokedReason: null,
              rotatedAt: null,
              createdPos: _pos,
            },
            true,
          );
          break;
        }
        case 'ApiKeyRotated':
          set({ rotatedAt: at });
          break;
        case 'ApiKeyRevoked':
          set({ revoked: true, revokedAt: at, revokedReason: e.data.reason });
          break;
        case 'ApiKeyUsed':
          set({ lastUsedAt: at });
          break;
      }
    }
    if (ops.length) await store.bulkUpdate(API_KEYS, ops);
  }
}
