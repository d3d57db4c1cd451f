import { given } from '@purser/testkit';
import { CredentialEvent } from '../events';
import { credentialDecider } from './credential.decider';

const who = { userId: 'u1', orgId: 'o1' };
const origin = { ip: '10.0.0.1', userAgent: null };
const failure = (now: string) =>
  ({
    type: 'RecordFailure',
    ...who,
    reason: 'password',
    origin,
    now,
    threshold: 3,
    lockSeconds: 600,
  }) as const;
const failed = (failures: number): CredentialEvent => ({
  type: 'SignInFailed',
  data: { ...who, reason: 'password', origin, failures },
});

describe('credential decider: failed sign-ins and the lock', () => {
  it('given two failures, when a third fails, then it is counted and the account locks until now + the lock time', () => {
    given(credentialDecider, [failed(1), failed(2)])
      .when(failure('2026-12-06T12:00:00.000Z'))
      .then([
        { type: 'SignInFailed', data: { ...who, reason: 'password', origin, failures: 3 } },
        { type: 'AccountLocked', data: { ...who, until: '2026-12-06T12:10:00.000Z', failures: 3 } },
      ]);
  });

  it('given a lock, when a sign-in fails during it, then it is recorded but does not lock again', () => {
    const locked: CredentialEvent = {
      type: 'AccountLocked',
      data: { ...who, until: '2026-12-06T12:10:00.000Z', failures: 3 },
    };
    given(credentialDecider, [failed(1), failed(2), failed(3), locked])
      .when({ ...failure('2026-12-06T12:05:00.000Z') })
      .then([{ type: 'SignInFailed', data: { ...who, reason: 'password', origin, failures: 0 } }]);
  });

  it('given a lock that ended, when failures come again, then counting starts from zero and locks again at the threshold', () => {
    const locked: CredentialEvent = {
      type: 'AccountLocked',
      data: { ...who, until: '2026-12-06T12:10:00.000Z', failures: 3 },
    };
    const after = '2026-12-06T13:00:00.000Z';
    given(credentialDecider, [locked])
      .when(failure(after))
      .then([{ type: 'SignInFailed', data: { ...who, reason: 'password', origin, failures: 1 } }]);
    given(credentialDecider, [locked, failed(1), failed(2)])
      .when(failure(after))
      .then([{ type: 'SignInFailed' }, { type: 'AccountLocked' }]);
  });

  it('given a lock, when an admin unlocks, then AccountUnlocked; when the account is not locked, then nothing', () => {
    const locked: CredentialEvent = {
      type: 'AccountLocked',
      data: { ...who, until: '2026-12-06T12:10:00.000Z', failures: 3 },
    };
    given(credentialDecider, [locked])
      .when({ type: 'Unlock', ...who, now: '2026-12-06T12:01:00.000Z' })
      .then([{ type: 'AccountUnlocked', data: { ...who, reason: 'admin' } }]);
    given(credentialDecider, [failed(1)])
      .when({ type: 'Unlock', ...who, now: '2026-12-06T12:01:00.000Z' })
      .thenNothing();
  });

  it('given a success, then the count of failures is cleared', () => {
    const ok: CredentialEvent = {
      type: 'SignInSucceeded',
      data: { ...who, sessionId: 's1', method: 'password', origin },
    };
    given(credentialDecider, [failed(1), failed(2), ok])
      .when(failure('2026-12-06T12:00:00.000Z'))
      .then([{ type: 'SignInFailed', data: { ...who, reason: 'password', origin, failures: 1 } }]);
  });
});
