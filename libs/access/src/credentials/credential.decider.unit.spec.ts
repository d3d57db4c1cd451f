import { ConflictError, UnauthenticatedError } from '@purser/core';
import { given } from '@purser/testkit';
import { credentialDecider } from './credential.decider';
import { CredentialEvent, RequestOrigin, SignInMethod } from '../events';

const who = { userId: 'u1', orgId: 'o1' };
const origin: RequestOrigin = { ip: '127.0.0.1', userAgent: 'jest' };
const NOW = '2025-03-01T10:00:00.000Z';
const digests = Array.from({ length: 10 }, (_, i) => `${i}`.repeat(64));

const withPassword: CredentialEvent[] = [
  { type: 'PasswordSet', data: { ...who, hash: '$argon2id$x', reason: 'set' } },
];
const enrolling: CredentialEvent[] = [
  ...withPassword,
  { type: 'MfaEnrolmentStarted', data: { ...who, method: 'totp', sealedSecret: 'v1.sealed-1' } },
];
const mfaOn: CredentialEvent[] = [
  ...enrolling,
  { type: 'MfaEnabled', data: { ...who, method: 'totp', totpStep: 100, recoveryCodeDigests: digests } },
];

const signIn = (
  extra: { totpStep?: number; recoveryCode?: number },
  method: SignInMethod = 'password+totp',
) => ({
  type: 'RecordSignIn' as const,
  ...who,
  sessionId: 's1',
  method,
  origin,
  now: NOW,
  ...extra,
});

describe('credential decider: MFA', () => {
  it('given a password and no MFA, when starting an enrolment, then MfaEnrolmentStarted with the sealed secret, and MFA is still off', () => {
    const spec = given(credentialDecider, withPassword);
    spec
      .when({ type: 'StartMfaEnrolment', ...who, sealedSecret: 'v1.sealed-1' })
      .then([{ type: 'MfaEnrolmentStarted', data: { ...who, method: 'totp', sealedSecret: 'v1.sealed-1' } }]);
    expect(given(credentialDecider, enrolling).state.mfa).toMatchObject({
      enabled: false,
      pendingSecret: 'v1.sealed-1',
    });
  });

  it('given an enrolment waiting, when starting another, then its secret replaces the first', () => {
    const restarted = given(credentialDecider, [
      ...enrolling,
      { type: 'MfaEnrolmentStarted', data: { ...who, method: 'totp', sealedSecret: 'v1.sealed-2' } },
    ]);
    expect(restarted.state.mfa.pendingSecret).toBe('v1.sealed-2');
  });

  it('given MFA on, when starting an enrolment, then refused (409)', () => {
    given(credentialDecider, mfaOn)
      .when({ type: 'StartMfaEnrolment', ...who, sealedSecret: 'v1.other' })
      .thenRefuses(ConflictError, /already on/);
  });

  it('given an enrolment waiting, when confirming, then MfaEnabled: the pending secret becomes the secret, its step is spent, the recovery digests are kept', () => {
    given(credentialDecider, enrolling)
      .when({ type: 'ConfirmMfa', ...who, totpStep: 100, recoveryCodeDigests: digests })
      .then([
        { type: 'MfaEnabled', data: { ...who, method: 'totp', totpStep: 100, recoveryCodeDigests: digests } },
      ]);
    expect(given(credentialDecider, mfaOn).state.mfa).toEqual({
      enabled: true,
      sealedSecret: 'v1.sealed-1',
      pendingSecret: null,
      lastStep: 100,
      recoveryDigests: digests,
    });
  });

  it('given no enrolment waiting, when confirming, then refused (409)', () => {
    given(credentialDecider, withPassword)
      .when({ type: 'ConfirmMfa', ...who, totpStep: 1, recoveryCodeDigests: digests })
      .thenRefuses(ConflictError, /no MFA enrolment/);
    given(credentialDecider, mfaOn)
      .when({ type: 'ConfirmMfa', ...who, totpStep: 101, recoveryCodeDigests: digests })
      .thenRefuses(ConflictError, /no MFA enrolment/);
  });

  it('given MFA on, when signing in with a later step, then SignInSucceeded with that step, and the step is spent', () => {
    const events = given(credentialDecider, mfaOn)
      .when(signIn({ totpStep: 101 }))
      .then([
        {
          type: 'SignInSucceeded',
          data: expect.objectContaining({ method: 'password+totp', totpStep: 101 }),
        },
      ]);
    expect(given(credentialDecider, [...mfaOn, ...events]).state.mfa.lastStep).toBe(101);
  });

  it('given MFA on, when signing in with the step the confirmation spent or an earlier one, then refused: a code works once', () => {
    for (const totpStep of [100, 99]) {
      const refused = given(credentialDecider, mfaOn)
        .when(signIn({ totpStep }))
        .thenRefuses(UnauthenticatedError);
      expect(refused.details).toEqual([{ field: 'code', problem: 'used' }]);
    }
  });

  it('given a sign-in that spent step 101, when the same step comes again, then refused', () => {
    given(credentialDecider, [
      ...mfaOn,
      {
        type: 'SignInSucceeded',
        data: { ...who, sessionId: 's0', method: 'password+totp', origin, totpStep: 101 },
      },
    ])
      .when(signIn({ totpStep: 101 }))
      .thenRefuses(UnauthenticatedError, /already used/);
  });

  it('given MFA on, when signing in with recovery code 3, then it is spent and only it: a second use is refused, the others still work', () => {
    const events = given(credentialDecider, mfaOn)
      .when(signIn({ recoveryCode: 3 }, 'password+recovery-code'))
      .then([{ type: 'SignInSucceeded', data: expect.objectContaining({ recoveryCode: 3 }) }]);
    const after = given(credentialDecider, [...mfaOn, ...events]);
    expect(after.state.mfa.recoveryDigests[3]).toBeNull();
    expect(after.state.mfa.recoveryDigests.filter((d) => d !== null)).toHaveLength(9);
    after
      .when(signIn({ recoveryCode: 3 }, 'password+recovery-code'))
      .thenRefuses(UnauthenticatedError, /recovery code/);
    after.when(signIn({ recoveryCode: 4 }, 'password+recovery-code')).then([{ type: 'SignInSucceeded' }]);
  });

  it('given MFA on, when a wrong code is recorded, then it counts toward the lock like a wrong password', () => {
    const failure = {
      type: 'RecordFailure' as const,
      ...who,
      reason: 'mfa' as const,
      origin,
      now: NOW,
      threshold: 2,
      lockSeconds: 60,
    };
    const first = given(credentialDecider, mfaOn)
      .when(failure)
      .then([{ type: 'SignInFailed', data: expect.objectContaining({ reason: 'mfa', failures: 1 }) }]);
    given(credentialDecider, [...mfaOn, ...first])
      .when(failure)
      .then([
        { type: 'SignInFailed', data: expect.objectContaining({ failures: 2 }) },
        { type: 'AccountLocked', data: { ...who, until: '2025-03-01T10:01:00.000Z', failures: 2 } },
      ]);
  });

  it('given MFA on, when regenerating recovery codes, then the new digests replace every old one (used ones included)', () => {
    const fresh = digests.map((d) => d.replace(/./g, 'f'));
    const spent: CredentialEvent[] = [
      ...mfaOn,
      {
        type: 'SignInSucceeded',
        data: { ...who, sessionId: 's0', method: 'password+recovery-code', origin, recoveryCode: 0 },
      },
    ];
    const events = given(credentialDecider, spent)
      .when({ type: 'RegenerateRecoveryCodes', ...who, recoveryCodeDigests: fresh })
      .then([{ type: 'RecoveryCodesRegenerated', data: { ...who, recoveryCodeDigests: fresh } }]);
    expect(given(credentialDecider, [...spent, ...events]).state.mfa.recoveryDigests).toEqual(fresh);
  });

  it('given MFA off, when regenerating recovery codes, then refused (409)', () => {
    given(credentialDecider, enrolling)
      .when({ type: 'RegenerateRecoveryCodes', ...who, recoveryCodeDigests: digests })
      .thenRefuses(ConflictError, /MFA is off/);
  });

  it('given MFA on, when an administrator disables it, then MfaDisabled reason admin and every MFA trace is gone', () => {
    const events = given(credentialDecider, mfaOn)
      .when({ type: 'DisableMfa', ...who, reason: 'admin' })
      .then([{ type: 'MfaDisabled', data: { ...who, reason: 'admin' } }]);
    expect(given(credentialDecider, [...mfaOn, ...events]).state.mfa).toEqual(
      credentialDecider.initialState().mfa,
    );
  });

  it('given an enrolment waiting, when the user disables MFA, then the enrolment is dropped', () => {
    given(credentialDecider, enrolling)
      .when({ type: 'DisableMfa', ...who, reason: 'user' })
      .then([{ type: 'MfaDisabled', data: { ...who, reason: 'user' } }]);
  });

  it('given MFA off and nothing pending, when disabling it, then nothing', () => {
    given(credentialDecider, withPassword)
      .when({ type: 'DisableMfa', ...who, reason: 'user' })
      .thenNothing();
  });

  it('given MFA disabled after use, when enrolling again, then the spent steps no longer block the new secret', () => {
    const again = given(credentialDecider, [
      ...mfaOn,
      { type: 'MfaDisabled', data: { ...who, reason: 'user' } },
      { type: 'MfaEnrolmentStarted', data: { ...who, method: 'totp', sealedSecret: 'v1.sealed-3' } },
      { type: 'MfaEnabled', data: { ...who, method: 'totp', totpStep: 50, recoveryCodeDigests: digests } },
    ]);
    expect(again.state.mfa).toMatchObject({ enabled: true, sealedSecret: 'v1.sealed-3', lastStep: 50 });
    again.when(signIn({ totpStep: 51 })).then([{ type: 'SignInSucceeded' }]);
  });
});
