import { userIn } from '../users';
import { Injectable } from '@nestjs/common';
import { CommandHandler, ICommandHandler } from '@nestjs/cqrs';
import { CommandContext, CommandExecutor, RuleViolationError } from '@purser/core';
import { DirectoryLookup, LiveUser } from '@purser/directory';
import { CredentialState, credentialDecider, onCredential } from '../credentials/credential.decider';
import { KeyMaterial } from '../key-material';
import { ConfirmTotp, EnrolTotp, RenewRecoveryCodes, ResetUserMfa, TurnOffMfa } from './mfa.commands';
import { OpenSessions } from '../sessions/open-sessions';
import { Passwords } from '../credentials/passwords';
import { AccessStreams } from '../streams';
import {
  TotpEnrolment,
  newRecoveryCodes,
  newTotpSecret,
  normalizeRecoveryCode,
  totpEnrolment,
  totpStepOf,
} from './totp';

export interface RecoveryCodes {
  /** Shown once: each signs in once in place of a code. */
  recoveryCodes: string[];
}

export const wrongCode = () =>
  new RuleViolationError('the code is wrong or expired', [{ field: 'code', problem: 'wrong' }]);

/**
 * The MFA parts of a credential: enrolment (the secret sealed in its event), codes checked against the sealed
 * secret, recovery codes kept only as keyed digests. Shared by the account routes and the sign-in's second step.
 */
@Injectable()
export class MfaCredentials {
  constructor(
    private readonly executor: CommandExecutor,
    private readonly keys: KeyMaterial,
  ) {}

  load(userId: string) {
    return this.executor.current(AccessStreams.credential(userId), credentialDecider);
  }

  /** The time step of a code of this sealed secret, or null (no secret, not a code, wrong or out of the window). */
  stepOf(sealedSecret: string | null, code: string, now: string): number | null {
    return sealedSecret ? totpStepOf(this.keys.unseal(sealedSecret), code, now) : null;
  }

  /** The index of an unused recovery code matching what was typed, or null. */
  recoveryIndexOf(state: CredentialState, typed: string): number | null {
    const code = normalizeRecoveryCode(typed);
    const i = state.mfa.recoveryDigests.findIndex((d) => d !== null && this.keys.matches(code, d));
    return i < 0 ? null : i;
  }

  freshRecoveryCodes(): { codes: string[]; digests: string[] } {
    const codes = newRecoveryCodes();
    return { codes, digests: codes.map((c) => this.keys.digest(c)) };
  }

  async startEnrolment(ctx: CommandContext, user: LiveUser): Promise<TotpEnrolment> {
    const secret = newTotpSecret();
    await onCredential(this.executor, ctx, user, {
      type: 'StartMfaEnrolment',
      sealedSecret: this.keys.seal(secret),
    });
    return totpEnrolment(secret, user.username);
  }

  /** Checks a first code against the pending secret; a wrong one changes nothing (422). */
  async confirmEnrolment(ctx: CommandContext, user: LiveUser, code: string): Promise<RecoveryCodes> {
    const { state, revision } = await this.load(user.userId);
    const step = state.mfa.pendingSecret ? this.stepOf(state.mfa.pendingSecret, code, ctx.now) : -1;
    if (step === null) throw wrongCode();
    const { codes, digests } = this.freshRecoveryCodes();
    // The revision read: an enrolment restarted meanwhile (another secret) is a conflict, not a confirmation.
    await onCredential(
      this.executor,
      ctx,
      user,
      { type: 'ConfirmMfa', totpStep: step, recoveryCodeDigests: digests },
      state.mfa.pendingSecret ? { expectedRevision: revision } : {},
    );
    return { recoveryCodes: codes };
  }
}

@CommandHandler(EnrolTotp)
export class EnrolTotpHandler implements ICommandHandler<EnrolTotp, TotpEnrolment> {
  constructor(
    private readonly mfa: MfaCredentials,
    private readonly directory: DirectoryLookup,
  ) {}

  async execute({ ctx, input }: EnrolTotp) {
    return this.mfa.startEnrolment(ctx, await userIn(this.directory, input.orgId, input.userId));
  }
}

@CommandHandler(ConfirmTotp)
export class ConfirmTotpHandler implements ICommandHandler<ConfirmTotp, RecoveryCodes> {
  constructor(
    private readonly mfa: MfaCredentials,
    private readonly directory: DirectoryLookup,
  ) {}

  async execute({ ctx, input }: ConfirmTotp) {
    return this.mfa.confirmEnrolment(
      ctx,
      await userIn(this.directory, input.orgId, input.userId),
      input.code,
    );
  }
}

@CommandHandler(RenewRecoveryCodes)
export class RenewRecoveryCodesHandler implements ICommandHandler<RenewRecoveryCodes, RecoveryCodes> {
  constructor(
    private readonly mfa: MfaCredentials,
    private readonly executor: CommandExecutor,
    private readonly directory: DirectoryLookup,
  ) {}

  async execute({ ctx, input }: RenewRecoveryCodes) {
    const user = await userIn(this.directory, input.orgId, input.userId);
    const { state } = await this.mfa.load(user.userId);
    const { codes, digests } = this.mfa.freshRecoveryCodes();
    // With MFA off there is no secret to check the code against: the decider's refusal (409) says why.
    if (state.mfa.enabled && this.mfa.stepOf(state.mfa.sealedSecret, input.code, ctx.now) === null)
      throw wrongCode();
    await onCredential(this.executor, ctx, user, {
      type: 'RegenerateRecoveryCodes',
      recoveryCodeDigests: digests,
    });
    return { recoveryCodes: codes };
  }
}

@CommandHandler(TurnOffMfa)
export class TurnOffMfaHandler implements ICommandHandler<TurnOffMfa, { mfaDisabled: boolean }> {
  constructor(
    private readonly mfa: MfaCredentials,
    private readonly executor: CommandExecutor,
    private readonly directory: DirectoryLookup,
    private readonly passwords: Passwords,
  ) {}

  async execute({ ctx, input }: TurnOffMfa) {
    const user = await userIn(this.directory, input.orgId, input.userId);
    const { state } = await this.mfa.load(user.userId);
    if (!(await this.passwords.verify(state.passwordHash, input.password)))
      throw new RuleViolationError('the password is wrong', [{ field: 'password', problem: 'wrong' }]);
    const r = await onCredential(this.executor, ctx, user, { type: 'DisableMfa', reason: 'user' });
    return { mfaDisabled: r.events.length > 0 };
  }
}

@CommandHandler(ResetUserMfa)
export class ResetUserMfaHandler implements ICommandHandler<
  ResetUserMfa,
  { mfaDisabled: boolean; sessionsEnded: number }
> {
  constructor(
    private readonly executor: CommandExecutor,
    private readonly directory: DirectoryLookup,
    private readonly sessions: OpenSessions,
  ) {}

  async execute({ ctx, input }: ResetUserMfa) {
    const user = await userIn(this.directory, input.orgId, input.userId);
    const r = await onCredential(this.executor, ctx, user, { type: 'DisableMfa', reason: 'admin' });
    // Whoever holds the lost device may be signed in: every session ends, whether MFA was on or not.
    const sessionsEnded = await this.sessions.endAll(ctx, user.orgId, user.userId, 'mfa-reset');
    return { mfaDisabled: r.events.length > 0, sessionsEnded };
  }
}
