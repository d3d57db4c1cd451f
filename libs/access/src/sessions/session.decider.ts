import { timingSafeEqual } from 'node:crypto';
import { Decider, UnauthenticatedError, refuse } from '@purser/core';
import { RequestOrigin, SessionEvent, SessionRevokeReason, SignInMethod } from '../events';

/** One session: a refresh-token family. Only digests of its tokens are kept. */
export interface SessionState {
  sessionId: string | null;
  userId: string | null;
  orgId: string | null;
  method: SignInMethod | 'setup' | null;
  expiresAt: string | null;
  origin: RequestOrigin | null;
  generation: number;
  refreshDigest: string | null;
  /** Digests of refresh tokens already spent: presenting one again is a theft signal. */
  spent: string[];
  revoked: SessionRevokeReason | null;
}

export type SessionCommand =
  | {
      type: 'StartSession';
      sessionId: string;
      userId: string;
      orgId: string;
      method: SignInMethod | 'setup';
      refreshDigest: string;
      expiresAt: string;
      origin: RequestOrigin;
    }
  | { type: 'Refresh'; presentedDigest: string; nextDigest: string; now: string }
  | { type: 'Revoke'; reason: SessionRevokeReason };

/** How many spent digests a session remembers (rotation on every use: one per refresh). */
const SPENT_KEPT = 50;

export const refreshRefused = () =>
  new UnauthenticatedError('this refresh token is invalid, expired or revoked; sign in again', [
    { field: 'refreshToken', problem: 'invalid' },
  ]);

function same(a: string | null, b: string): boolean {
  if (!a) return false;
  const x = Buffer.from(a, 'hex');
  const y = Buffer.from(b, 'hex');
  return x.length === y.length && timingSafeEqual(x, y);
}

export function isActiveSession(s: SessionState, now: string): boolean {
  return s.sessionId !== null && s.revoked === null && s.expiresAt !== null && s.expiresAt > now;
}

export const sessionDecider: Decider<SessionCommand, SessionState, SessionEvent> = {
  initialState: () => ({
    sessionId: null,
    userId: null,
    orgId: null,
    method: null,
    expiresAt: null,
    origin: null,
    generation: 0,
    refreshDigest: null,
    spent: [],
    revoked: null,
  }),

  decide(c, s) {
    switch (c.type) {
      case 'StartSession':
        if (s.sessionId !== null) return [];
        return [
          {
            type: 'SessionStarted',
            data: {
              sessionId: c.sessionId,
              userId: c.userId,
              orgId: c.orgId,
              method: c.method,
              refreshDigest: c.refreshDigest,
              expiresAt: c.expiresAt,
              origin: c.origin,
            },
          },
        ];
      case 'Refresh': {
        if (!s.sessionId || !s.userId || !s.orgId) return refuse(refreshRefused());
        const who = { sessionId: s.sessionId, userId: s.userId, orgId: s.orgId };
        if (s.spent.some((d) => same(d, c.presentedDigest))) {
          // A spent token again: whoever holds the family's tokens may be a thief. End the whole family.
          if (s.revoked) return refuse(refreshRefused());
          return [{ type: 'SessionRevoked', data: { ...who, reason: 'refresh-reuse' } }];
        }
        if (!same(s.refreshDigest, c.presentedDigest) || !isActiveSession(s, c.now))
          return refuse(refreshRefused());
        return [
          {
            type: 'SessionRefreshed',
            data: { ...who, generation: s.generation + 1, refreshDigest: c.nextDigest },
          },
        ];
      }
      case 'Revoke':
        if (!s.sessionId || !s.userId || !s.orgId || s.revoked) return [];
        return [
          {
            type: 'SessionRevoked',
            data: { sessionId: s.sessionId, userId: s.userId, orgId: s.orgId, reason: c.reason },
          },
        ];
    }
  },

  evolve(s, e) {
    switch (e.type) {
      case 'SessionStarted':
        return {
          ...s,
          sessionId: e.data.sessionId,
          userId: e.data.userId,
          orgId: e.data.orgId,
          method: e.data.method,
          expiresAt: e.data.expiresAt,
          origin: e.data.origin,
          refreshDigest: e.data.refreshDigest,
          generation: 0,
        };
      case 'SessionRefreshed':
        return {
          ...s,
          generation: e.data.generation,
          spent: [...s.spent, ...(s.refreshDigest ? [s.refreshDigest] : [])].slice(-SPENT_KEPT),
          refreshDigest: e.data.refreshDigest,
        };
      case 'SessionRevoked':
        return { ...s, revoked: e.data.reason };
    }
  },
};
