import { UnauthenticatedError } from '@purser/core';
import { given } from '@purser/testkit';
import { SessionEvent } from '../events';
import { sessionDecider } from './session.decider';

const origin = { ip: '10.0.0.1', userAgent: 'test' };
const started: SessionEvent = {
  type: 'SessionStarted',
  data: {
    sessionId: 's1',
    userId: 'u1',
    orgId: 'o1',
    method: 'password',
    refreshDigest: 'aa01',
    expiresAt: '2026-12-31T00:00:00.000Z',
    origin,
  },
};
const refreshed: SessionEvent = {
  type: 'SessionRefreshed',
  data: { sessionId: 's1', userId: 'u1', orgId: 'o1', generation: 1, refreshDigest: 'bb02' },
};
const now = '2026-12-06T12:00:00.000Z';

describe('session decider: one refresh-token family', () => {
  it('given a started session, when its refresh token is presented, then it rotates to the next digest', () => {
    given(sessionDecider, [started])
      .when({ type: 'Refresh', presentedDigest: 'aa01', nextDigest: 'bb02', now })
      .then([
        {
          type: 'SessionRefreshed',
          data: { sessionId: 's1', userId: 'u1', orgId: 'o1', generation: 1, refreshDigest: 'bb02' },
        },
      ]);
  });

  it('given a rotated session, when the spent token is presented again, then the whole family is revoked', () => {
    given(sessionDecider, [started, refreshed])
      .when({ type: 'Refresh', presentedDigest: 'aa01', nextDigest: 'cc03', now })
      .then([
        {
          type: 'SessionRevoked',
          data: { sessionId: 's1', userId: 'u1', orgId: 'o1', reason: 'refresh-reuse' },
        },
      ]);
  });

  it('given a revoked family, when any of its tokens is presented, then refused and nothing more is appended', () => {
    const revoked: SessionEvent = {
      type: 'SessionRevoked',
      data: { sessionId: 's1', userId: 'u1', orgId: 'o1', reason: 'refresh-reuse' },
    };
    given(sessionDecider, [started, refreshed, revoked])
      .when({ type: 'Refresh', presentedDigest: 'bb02', nextDigest: 'dd04', now })
      .thenRefuses(UnauthenticatedError, /invalid, expired or revoked/);
    given(sessionDecider, [started, refreshed, revoked])
      .when({ type: 'Refresh', presentedDigest: 'aa01', nextDigest: 'dd04', now })
      .thenRefuses(UnauthenticatedError);
  });

  it('given an unknown token or an expired session, when presented, then refused', () => {
    given(sessionDecider, [started])
      .when({ type: 'Refresh', presentedDigest: 'ffff', nextDigest: 'bb02', now })
      .thenRefuses(UnauthenticatedError);
    given(sessionDecider, [started])
      .when({ type: 'Refresh', presentedDigest: 'aa01', nextDigest: 'bb02', now: '2027-01-01T00:00:00.000Z' })
      .thenRefuses(UnauthenticatedError);
    given(sessionDecider, [])
      .when({ type: 'Refresh', presentedDigest: 'aa01', nextDigest: 'bb02', now })
      .thenRefuses(UnauthenticatedError);
  });

  it('given a session, when revoked twice, then one SessionRevoked', () => {
    given(sessionDecider, [started])
      .when({ type: 'Revoke', reason: 'logout' })
      .then([
        { type: 'SessionRevoked', data: { sessionId: 's1', userId: 'u1', orgId: 'o1', reason: 'logout' } },
      ]);
    given(sessionDecider, [
      started,
      { type: 'SessionRevoked', data: { sessionId: 's1', userId: 'u1', orgId: 'o1', reason: 'logout' } },
    ])
      .when({ type: 'Revoke', reason: 'revoked' })
      .thenNothing();
  });
});
