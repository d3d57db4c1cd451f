import { ConflictError, Decider, NotFoundError, refuse } from '@purser/core';
import { ApiKeyEvent, ApiKeyOwner } from '../events';

/** An API key as folded from its stream: only digests of its secrets. */
export interface ApiKeyState {
  keyId: string | null;
  orgId: string | null;
  owner: ApiKeyOwner | null;
  name: string;
  scopes: string[];
  expiresAt: string | null;
  secretDigest: string | null;
  /** After a rotation, the previous secret works until then. */
  previous: { secretDigest: string; validUntil: string } | null;
  revoked: boolean;
  /** The last UTC day a use was recorded (ApiKeyUsed is written once a day). */
  lastUsedDay: string | null;
}

export type ApiKeyCommand =
  | {
      type: 'CreateApiKey';
      keyId: string;
      orgId: string;
      owner: ApiKeyOwner;
      name: string;
      scopes: string[];
      expiresAt: string | null;
      secretDigest: string;
    }
  | { type: 'RotateApiKey'; secretDigest: string; previousValidUntil: string; now: string }
  | { type: 'RevokeApiKey'; reason: 'revoked' | 'owner-deactivated' | 'owner-deleted' }
  | { type: 'RecordApiKeyUse'; day: string; ip: string };

export const apiKeyNotFound = (keyId: string) =>
  new NotFoundError(`API key ${keyId} not found`, [{ field: 'keyId', problem: 'unknown' }]);

export function isUsable(s: ApiKeyState, now: string): boolean {
  return s.keyId !== null && !s.revoked && (s.expiresAt === null || s.expiresAt > now);
}

export const apiKeyDecider: Decider<ApiKeyCommand, ApiKeyState, ApiKeyEvent> = {
  initialState: () => ({
    keyId: null,
    orgId: null,
    owner: null,
    name: '',
    scopes: [],
    expiresAt: null,
    secretDigest: null,
    previous: null,
    revoked: false,
    lastUsedDay: null,
  }),
  decide(c, s) {
    if (c.type === 'CreateApiKey') {
      if (s.keyId !== null) return [];
      const { type: _t, ...data } = c;
      return [{ type: 'ApiKeyCreated', data }];
    }
    if (!s.keyId || !s.orgId) return refuse(apiKeyNotFound('?'));
    const who = { keyId: s.keyId, orgId: s.orgId };
    switch (c.type) {
      case 'RotateApiKey':
        if (!isUsable(s, c.now))
          return refuse(
            new ConflictError('a revoked or expired key cannot be rotated', [
              { field: 'keyId', problem: 'not usable' },
            ]),
          );
        return [
          {
            type: 'ApiKeyRotated',
            data: { ...who, secretDigest: c.secretDigest, previousValidUntil: c.previousValidUntil },
          },
        ];
      case 'RevokeApiKey':
        return s.revoked ? [] : [{ type: 'ApiKeyRevoked', data: { ...who, reason: c.reason } }];
      case 'RecordApiKeyUse':
        return s.lastUsedDay === c.day
          ? []
          : [{ type: 'ApiKeyUsed', data: { ...who, day: c.day, ip: c.ip } }];
    }
  },
  evolve(s, e) {
    switch (e.type) {
      case 'ApiKeyCreated':
        return {
          ...s,
          keyId: e.data.keyId,
          orgId: e.data.orgId,
          owner: e.data.owner,
          name: e.data.name,
          scopes: [...e.data.scopes],
          expiresAt: e.data.expiresAt,
          secretDigest: e.data.secretDigest,
        };
      case 'ApiKeyRotated':
        return {
          ...s,
          previous: s.secretDigest
            ? { secretDigest: s.secretDigest, validUntil: e.data.previousValidUntil }
            : null,
          secretDigest: e.data.secretDigest,
        };
      case 'ApiKeyRevoked':
        return { ...s, revoked: true };
      case 'ApiKeyUsed':
        return { ...s, lastUsedDay: e.data.day };
    }
  },
};
