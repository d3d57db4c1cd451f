import { timingSafeEqual } from 'node:crypto';
import type { CommandContext, CommandExecutor, ExecuteOptions } from '@purser/core';
import { AccessStreams } from '../streams';
import { ConflictError, Decider, RuleViolationError, UnauthenticatedError, refuse } from '@purser/core';
import { CredentialEvent, PasswordReason, RequestOrigin, SignInFailureReason, SignInMethod } from '../events';

/** A user's credentials as folded from their credential stream: never the password, only its hash. */
export interface CredentialState {
  userId: string | null;
  orgId: string | null;
  passwordHash: string | null;
  /** Consecutive failures since the last success, unlock or lock. */
  failures: number;
  lockedUntil: string | null;
  mfa: {
    enabled: boolean;
    /** The confirmed TOTP secret, sealed. */
    sealedSecret: string | null;
    /** An enrolment waiting for its first code. */
    pendingSecret: string | null;
    /** The last TOTP time step accepted: a code works once. */
    lastStep: number;
    /** Recovery code digests; a used one is null. */
    recoveryDigests: Array<string | null>;
  };
  reset: { resetId: string; tokenDigest: string; expiresAt: string } | null;
  lastLogin: string | null;
}

export type CredentialCommand =
  | { type: 'SetPassword'; userId: string; orgId: string; hash: string; reason: PasswordReason }
  | {
      type: 'RecordSignIn';
      userId: string;
      orgId: string;
      sessionId: string;
      method: SignInMethod;
      origin: RequestOrigin;
      now: string;
      totpStep?: number;
      recoveryCode?: number;
    }
  | {
      type: 'RecordFailure';
      userId: string;
      orgId: string;
      reason: SignInFailureReason;
      origin: RequestOrigin;
      now: string;
      threshold: number;
      lockSeconds: number;
    }
  | { type: 'Unlock'; userId: string; orgId: string; now: string }
  | { type: 'StartMfaEnrolment'; userId: string; orgId: string; sealedSecret: string }
  | { type: 'ConfirmMfa'; userId: string; orgId: string; totpStep: number; recoveryCodeDigests: string[] }
  | { type: 'DisableMfa'; userId: string; orgId: string; reason: 'user' | 'admin' }
  | { type: 'RegenerateRecoveryCodes'; userId: string; orgId: string; recoveryCodeDigests: string[] }
  | {
      type: 'RequestReset';
      userId: string;
      orgId: string;
      resetId: string;
      tokenDigest: string;
      expiresAt: string;
      origin: RequestOrigin;
    }
  | { type: 'CompleteReset'; userId: string; orgId: string; tokenDigest: string; hash: string; now: string };

export function isLocked(state: CredentialState, now: string): boolean {
  return state.lockedUntil !== null && state.lockedUntil > now;
}

export const RESET_INVALID = () =>
  new UnauthenticatedError('this reset link is invalid, used or expired', [
    { field: 'token', problem: 'invalid' },
  ]);

function sameDigest(a: string, b: string): boolean {
  const x = Buffer.from(a, 'hex');
  const y = Buffer.from(b, 'hex');
  return x.length === y.length && x.length > 0 && timingSafeEqual(x, y);
}

export const credentialDecider: Decider<CredentialCommand, CredentialState, CredentialEvent> = {
  initialState: () => ({
    userId: null,
    orgId: null,
    passwordHash: null,
    failures: 0,
    lockedUntil: null,
    mfa: { enabled: false, sealedSecret: null, pendingSecret: null, lastStep: -1, recoveryDigests: [] },
    reset: null,
    lastLogin: null,
  }),

  decide(c, s) {
    const who = { userId: c.userId, orgId: c.orgId };
    switch (c.type) {
      case 'SetPassword':
        return [{ type: 'PasswordSet', data: { ...who, hash: c.hash, reason: c.reason } }];
      case 'RecordSignIn': {
        if (c.totpStep !== undefined && c.totpStep <= s.mfa.lastStep)
          return refuse(
            new UnauthenticatedError('this code was already used; wait for the next one', [
              { field: 'code', problem: 'used' },
            ]),
          );
        if (c.recoveryCode !== undefined && !s.mfa.recoveryDigests[c.recoveryCode])
          return refuse(
            new UnauthenticatedError('this recovery code was already used', [
              { field: 'recoveryCode', problem: 'used' },
            ]),
          );
        return [
          {
            type: 'SignInSucceeded',
            data: {
              ...who,
              sessionId: c.sessionId,
              method: c.method,
              origin: c.origin,
              ...(c.totpStep !== undefined ? { totpStep: c.totpStep } : {}),
              ...(c.recoveryCode !== undefined ? { recoveryCode: c.recoveryCode } : {}),
            },
          },
        ];
      }
      case 'RecordFailure': {
        // Wrong passwords and codes count toward a lock; attempts on a locked or inactive account are only recorded.
        const counts = (c.reason === 'password' || c.reason === 'mfa') && !isLocked(s, c.now);
        const failures = counts ? s.failures + 1 : s.failures;
        const events: CredentialEvent[] = [
          { type: 'SignInFailed', data: { ...who, reason: c.reason, origin: c.origin, failures } },
        ];
        if (counts && failures >= c.threshold) {
          const until = new Date(Date.parse(c.now) + c.lockSeconds * 1000).toISOString();
          events.push({ type: 'AccountLocked', data: { ...who, until, failures } });
        }
        return events;
      }
      case 'Unlock':
        if (!isLocked(s, c.now)) return [];
        return [{ type: 'AccountUnlocked', data: { ...who, reason: 'admin' } }];
      case 'StartMfaEnrolment':
        if (s.mfa.enabled)
          return refuse(
            new ConflictError('MFA is already on; turn it off first to enrol again', [
              { field: 'mfa', problem: 'enabled' },
            ]),
          );
        return [
          { type: 'MfaEnrolmentStarted', data: { ...who, method: 'totp', sealedSecret: c.sealedSecret } },
        ];
      case 'ConfirmMfa':
        if (!s.mfa.pendingSecret)
          return refuse(
            new ConflictError('no MFA enrolment is waiting for confirmation', [
              { field: 'mfa', problem: 'not enrolling' },
            ]),
          );
        return [
          {
            type: 'MfaEnabled',
            data: {
              ...who,
              method: 'totp',
              totpStep: c.totpStep,
              recoveryCodeDigests: c.recoveryCodeDigests,
            },
          },
        ];
      case 'DisableMfa':
        if (!s.mfa.enabled && !s.mfa.pendingSecret) return [];
        return [{ type: 'MfaDisabled', data: { ...who, reason: c.reason } }];
      case 'RegenerateRecoveryCodes':
        if (!s.mfa.enabled)
          return refuse(new ConflictError('MFA is off', [{ field: 'mfa', problem: 'disabled' }]));
        return [
          { type: 'RecoveryCodesRegenerated', data: { ...who, recoveryCodeDigests: c.recoveryCodeDigests } },
        ];
      case 'RequestReset':
        return [
          {
            type: 'PasswordResetRequested',
            data: {
              ...who,
              resetId: c.resetId,
              tokenDigest: c.tokenDigest,
              expiresAt: c.expiresAt,
              origin: c.origin,
            },
          },
        ];
      case 'CompleteReset': {
        if (!s.reset || !sameDigest(s.reset.tokenDigest, c.tokenDigest) || s.reset.expiresAt <= c.now)
          return refuse(RESET_INVALID());
        const events: CredentialEvent[] = [
          { type: 'PasswordResetCompleted', data: { ...who, resetId: s.reset.resetId } },
          { type: 'PasswordSet', data: { ...who, hash: c.hash, reason: 'reset' } },
        ];
        if (s.lockedUntil !== null || s.failures > 0)
          events.push({ type: 'AccountUnlocked', data: { ...who, reason: 'password-reset' } });
        return events;
      }
    }
  },

  evolve(s, e) {
    const base = { ...s, userId: e.data.userId, orgId: e.data.orgId };
    switch (e.type) {
      case 'PasswordSet':
        return { ...base, passwordHash: e.data.hash };
      case 'SignInSucceeded': {
        const recoveryDigests =
          e.data.recoveryCode !== undefined
            ? s.mfa.recoveryDigests.map((d, i) => (i === e.data.recoveryCode ? null : d))
            : s.mfa.recoveryDigests;
        return {
          ...base,
          failures: 0,
          lockedUntil: null,
          mfa: { ...s.mfa, lastStep: e.data.totpStep ?? s.mfa.lastStep, recoveryDigests },
        };
      }
      case 'SignInFailed':
        return { ...base, failures: e.data.failures };
      case 'AccountLocked':
        // Counting starts again when the lock ends.
        return { ...base, failures: 0, lockedUntil: e.data.until };
      case 'AccountUnlocked':
        return { ...base, failures: 0, lockedUntil: null };
      case 'MfaEnrolmentStarted':
        return { ...base, mfa: { ...s.mfa, pendingSecret: e.data.sealedSecret } };
      case 'MfaEnabled':
        return {
          ...base,
          mfa: {
            enabled: true,
            sealedSecret: s.mfa.pendingSecret,
            pendingSecret: null,
            lastStep: e.data.totpStep,
            recoveryDigests: [...e.data.recoveryCodeDigests],
          },
        };
      case 'MfaDisabled':
        return { ...base, mfa: credentialDecider.initialState().mfa };
      case 'RecoveryCodesRegenerated':
        return { ...base, mfa: { ...s.mfa, recoveryDigests: [...e.data.recoveryCodeDigests] } };
      case 'PasswordResetRequested':
        return {
          ...base,
          reset: { resetId: e.data.resetId, tokenDigest: e.data.tokenDigest, expiresAt: e.data.expiresAt },
        };
      case 'PasswordResetCompleted':
        return { ...base, reset: null };
    }
  },
};

/** A refusal for rules that are not credentials' business (shared by handlers). */
export const passwordRequired = () =>
  new RuleViolationError('the user has no password yet', [{ field: 'password', problem: 'not set' }]);

type WithoutWho<C> = C extends unknown ? Omit<C, 'userId' | 'orgId'> : never;

/** Runs a credential command on a user's credential stream (the user's ids filled in), in the user's org. */
export function onCredential(
  executor: CommandExecutor,
  ctx: CommandContext,
  user: { userId: string; orgId: string },
  command: WithoutWho<CredentialCommand>,
  options: Omit<ExecuteOptions, 'orgId'> = {},
) {
  return executor.execute(
    AccessStreams.credential(user.userId),
    credentialDecider,
    { ...command, userId: user.userId, orgId: user.orgId } as CredentialCommand,
    ctx,
    { orgId: user.orgId, ...options },
  );
}
