import { DomainEvent } from '@purser/core';

/**
 * The access context's facts: setup, credentials, sign-ins, sessions, MFA, resets and API keys. No event holds a
 * secret in plain text: passwords as argon2id hashes, tokens, codes and key secrets as keyed digests (HMAC-SHA256
 * with the instance pepper), the TOTP secret sealed (AES-256-GCM with the instance sealing key).
 */

/** Where a request came from: recorded on sign-in events for the audit trail. */
export interface RequestOrigin {
  ip: string;
  userAgent: string | null;
}

// --- instance (stream access-instance) -------------------------------------------------------------------------

export type SetupStarted = DomainEvent<'SetupStarted', { startedAt: string }>;
export type SetupCompleted = DomainEvent<'SetupCompleted', { orgId: string; userId: string }>;
/** A setup that failed half-way (its org was removed again): setup may be tried again at once. */
export type SetupAborted = DomainEvent<'SetupAborted', { reason: string }>;
export type InstanceEvent = SetupStarted | SetupCompleted | SetupAborted;

// --- credentials (stream credential-<userId>) ------------------------------------------------------------------

export type PasswordReason = 'setup' | 'set' | 'change' | 'reset';
export type PasswordSet = DomainEvent<
  'PasswordSet',
  { userId: string; orgId: string; hash: string; reason: PasswordReason }
>;
export type SignInMethod = 'password' | 'password+totp' | 'password+recovery-code';
export type SignInSucceeded = DomainEvent<
  'SignInSucceeded',
  {
    userId: string;
    orgId: string;
    sessionId: string;
    method: SignInMethod;
    origin: RequestOrigin;
    /** The TOTP time step used (a code works once). */
    totpStep?: number;
    /** The recovery code used (its index in the current set; each works once). */
    recoveryCode?: number;
  }
>;
export type SignInFailureReason = 'password' | 'locked' | 'inactive' | 'mfa' | 'no-password';
export type SignInFailed = DomainEvent<
  'SignInFailed',
  {
    userId: string;
    orgId: string;
    reason: SignInFailureReason;
    origin: RequestOrigin;
    /** Consecutive failures, this one included (reset by a success or an unlock). */
    failures: number;
  }
>;
export type AccountLocked = DomainEvent<
  'AccountLocked',
  { userId: string; orgId: string; until: string; failures: number }
>;
export type AccountUnlocked = DomainEvent<
  'AccountUnlocked',
  { userId: string; orgId: string; reason: 'admin' | 'password-reset' }
>;
export type MfaEnrolmentStarted = DomainEvent<
  'MfaEnrolmentStarted',
  { userId: string; orgId: string; method: 'totp'; sealedSecret: string }
>;
export type MfaEnabled = DomainEvent<
  'MfaEnabled',
  { userId: string; orgId: string; method: 'totp'; totpStep: number; recoveryCodeDigests: string[] }
>;
export type MfaDisabled = DomainEvent<
  'MfaDisabled',
  { userId: string; orgId: string; reason: 'user' | 'admin' }
>;
export type RecoveryCodesRegenerated = DomainEvent<
  'RecoveryCodesRegenerated',
  { userId: string; orgId: string; recoveryCodeDigests: string[] }
>;
export type PasswordResetRequested = DomainEvent<
  'PasswordResetRequested',
  {
    userId: string;
    orgId: string;
    resetId: string;
    tokenDigest: string;
    expiresAt: string;
    origin: RequestOrigin;
  }
>;
export type PasswordResetCompleted = DomainEvent<
  'PasswordResetCompleted',
  { userId: string; orgId: string; resetId: string }
>;
export type CredentialEvent =
  | PasswordSet
  | SignInSucceeded
  | SignInFailed
  | AccountLocked
  | AccountUnlocked
  | MfaEnrolmentStarted
  | MfaEnabled
  | MfaDisabled
  | RecoveryCodesRegenerated
  | PasswordResetRequested
  | PasswordResetCompleted;

// --- sessions (stream session-<sessionId>): one refresh-token family each --------------------------------------

export type SessionRevokeReason =
  | 'logout'
  | 'revoked'
  | 'refresh-reuse'
  | 'password-changed'
  | 'password-reset'
  | 'user-deactivated'
  | 'mfa-reset';
export type SessionStarted = DomainEvent<
  'SessionStarted',
  {
    sessionId: string;
    userId: string;
    orgId: string;
    method: SignInMethod | 'setup';
    refreshDigest: string;
    expiresAt: string;
    origin: RequestOrigin;
  }
>;
export type SessionRefreshed = DomainEvent<
  'SessionRefreshed',
  { sessionId: string; userId: string; orgId: string; generation: number; refreshDigest: string }
>;
export type SessionRevoked = DomainEvent<
  'SessionRevoked',
  { sessionId: string; userId: string; orgId: string; reason: SessionRevokeReason }
>;
export type SessionEvent = SessionStarted | SessionRefreshed | SessionRevoked;

// --- MFA policy (stream access-policy-<orgId>) ------------------------------------------------------------------

export type MfaRequirement = 'none' | 'admins' | 'everyone';
export type MfaPolicySet = DomainEvent<'MfaPolicySet', { orgId: string; required: MfaRequirement }>;
export type PolicyEvent = MfaPolicySet;

// --- API keys (stream apikey-<keyId>) ---------------------------------------------------------------------------

export interface ApiKeyOwner {
  type: 'user' | 'team';
  id: string;
}
export type ApiKeyCreated = DomainEvent<
  'ApiKeyCreated',
  {
    keyId: string;
    orgId: string;
    owner: ApiKeyOwner;
    name: string;
    scopes: string[];
    expiresAt: string | null;
    secretDigest: string;
  }
>;
export type ApiKeyRotated = DomainEvent<
  'ApiKeyRotated',
  { keyId: string; orgId: string; secretDigest: string; previousValidUntil: string }
>;
export type ApiKeyRevoked = DomainEvent<
  'ApiKeyRevoked',
  { keyId: string; orgId: string; reason: 'revoked' | 'owner-deactivated' | 'owner-deleted' }
>;
/** The first use of a key on a UTC day (not every use: the hot path stays free of writes). */
export type ApiKeyUsed = DomainEvent<'ApiKeyUsed', { keyId: string; orgId: string; day: string; ip: string }>;
export type ApiKeyEvent = ApiKeyCreated | ApiKeyRotated | ApiKeyRevoked | ApiKeyUsed;

// --- refusals (stream access-refusals-<orgId>: the caller's org) -------------------------------------------------

/** A route refused a principal (403, or 404 for something outside its org): the audit of what was tried. */
export type AccessRefused = DomainEvent<
  'AccessRefused',
  {
    orgId: string;
    principal: { type: 'user' | 'apiKey'; id: string };
    via: 'session' | 'apiKey' | 'breakGlass';
    permission: string;
    target: { orgId: string; teamId: string | null } | 'another org';
    status: 403 | 404;
  }
>;

export type AccessEvent =
  InstanceEvent | CredentialEvent | SessionEvent | PolicyEvent | ApiKeyEvent | AccessRefused;

export const ACCESS_EVENT_TYPES = [
  'SetupStarted',
  'SetupCompleted',
  'SetupAborted',
  'PasswordSet',
  'SignInSucceeded',
  'SignInFailed',
  'AccountLocked',
  'AccountUnlocked',
  'MfaEnrolmentStarted',
  'MfaEnabled',
  'MfaDisabled',
  'RecoveryCodesRegenerated',
  'PasswordResetRequested',
  'PasswordResetCompleted',
  'SessionStarted',
  'SessionRefreshed',
  'SessionRevoked',
  'MfaPolicySet',
  'ApiKeyCreated',
  'ApiKeyRotated',
  'ApiKeyRevoked',
  'ApiKeyUsed',
  'AccessRefused',
] as const satisfies readonly AccessEvent['type'][];
