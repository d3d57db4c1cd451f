import { CommandContext } from '@purser/core';
import { MfaRequirement, RequestOrigin } from '../events';

/** The signed-in user's own account (`self`). */
interface Self {
  orgId: string;
  userId: string;
}

/** Starts a TOTP enrolment for the signed-in user: answers the secret, once. */
export class EnrolTotp {
  constructor(
    readonly ctx: CommandContext,
    readonly input: Self,
  ) {}
}

/** Confirms the pending enrolment with a first code: MFA on, ten recovery codes answered once. */
export class ConfirmTotp {
  constructor(
    readonly ctx: CommandContext,
    readonly input: Self & { code: string },
  ) {}
}

/** A new set of recovery codes (the old ones stop working); needs a current code. */
export class RenewRecoveryCodes {
  constructor(
    readonly ctx: CommandContext,
    readonly input: Self & { code: string },
  ) {}
}

/** The user turns MFA off; needs the password. */
export class TurnOffMfa {
  constructor(
    readonly ctx: CommandContext,
    readonly input: Self & { password: string },
  ) {}
}

/** An administrator turns a user's MFA off (a lost device): the user's sessions end. */
export class ResetUserMfa {
  constructor(
    readonly ctx: CommandContext,
    readonly input: { orgId: string; userId: string },
  ) {}
}

/** A sign-in's second step: the MFA token of the first, and a TOTP code or a recovery code. */
export class CompleteMfaSignIn {
  constructor(
    readonly ctx: CommandContext,
    readonly input: { mfaToken: string; code?: string; recoveryCode?: string; origin: RequestOrigin },
  ) {}
}

/** A sign-in that the org's policy stopped for want of MFA: start the enrolment with the MFA token. */
export class EnrolTotpAtSignIn {
  constructor(
    readonly ctx: CommandContext,
    readonly input: { mfaToken: string; origin: RequestOrigin },
  ) {}
}

/** Confirms that enrolment with a first code: MFA on, the recovery codes, and the sign-in completes. */
export class ConfirmTotpAtSignIn {
  constructor(
    readonly ctx: CommandContext,
    readonly input: { mfaToken: string; code: string; origin: RequestOrigin },
  ) {}
}

export class SetOrgMfaPolicy {
  constructor(
    readonly ctx: CommandContext,
    readonly input: { orgId: string; required: MfaRequirement },
  ) {}
}
