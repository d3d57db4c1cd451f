import { Inject, Injectable } from '@nestjs/common';
import { CommandHandler, ICommandHandler } from '@nestjs/cqrs';
import { CommandContext, CommandExecutor, ConflictError, UnauthenticatedError, uuidv7 } from '@purser/core';
import { DirectoryLookup, LiveUser } from '@purser/directory';
import { CONFIG, PurserConfig } from '@purser/platform';
import { CredentialState, isLocked, onCredential } from '../credentials/credential.decider';
import { RequestOrigin, SignInFailureReason, SignInMethod } from '../events';
import { MfaCredentials, RecoveryCodes } from './mfa';
import { CompleteMfaSignIn, ConfirmTotpAtSignIn, EnrolTotpAtSignIn } from './mfa.commands';
import { SessionIssuer, TokenPair } from '../sessions/sessions';
import { SignInThrottle } from '../credentials/throttle';
import { SignInFailures } from '../credentials/failures';
import { AccessTokens } from '../tokens';
import { TotpEnrolment } from './totp';

export const mfaStepRefused = () =>
  new UnauthenticatedError('this sign-in step is invalid or expired; sign in again', [
    { field: 'mfaToken', problem: 'invalid or expired' },
  ]);

const codeRefused = (field: 'code' | 'recoveryCode') =>
  new UnauthenticatedError(field === 'code' ? 'the code is wrong' : 'the recovery code is wrong', [
    { field, problem: 'invalid' },
  ]);

interface PendingSignIn {
  user: LiveUser;
  cred: CredentialState;
  instanceAdmin: boolean;
}

/**
 * The second step of a sign-in: the MFA token the first step answered (typ 'mfa', minutes long) names the user;
 * the user must still be active and unlocked. A wrong code counts as a failed sign-in toward the same lock.
 */
@Injectable()
export class SecondStep {
  constructor(
    private readonly tokens: AccessTokens,
    private readonly directory: DirectoryLookup,
    private readonly executor: CommandExecutor,
    private readonly mfa: MfaCredentials,
    private readonly sessions: SessionIssuer,
    private readonly throttle: SignInThrottle,
    private readonly failures: SignInFailures,
    @Inject(CONFIG) private readonly config: PurserConfig,
  ) {}

  async open(ctx: CommandContext, mfaToken: string, origin: RequestOrigin): Promise<PendingSignIn> {
    const claims = await this.tokens.verify(mfaToken, 'mfa', new Date(ctx.now));
    if (!claims) throw mfaStepRefused();
    const user = await this.directory.user(claims.sub);
    if (!user || user.orgId !== claims.org) throw mfaStepRefused();
    const { state: cred } = await this.mfa.load(user.userId);
    const reason: SignInFailureReason | null = isLocked(cred, ctx.now)
      ? 'locked'
      : user.status !== 'active'
        ? 'inactive'
        : null;
    if (reason) return this.refuse(ctx, user, cred, reason, origin, mfaStepRefused());
    return { user, cred, instanceAdmin: claims.adm === true };
  }

  /** Records the failure (a wrong code counts toward the lock), slows the answer down, and refuses. */
  async refuse(
    ctx: CommandContext,
    user: LiveUser,
    cred: CredentialState,
    reason: SignInFailureReason,
    origin: RequestOrigin,
    error: UnauthenticatedError,
  ): Promise<never> {
    await this.failures.record(ctx, user, reason, origin);
    await this.failures.slowDown(cred.failures + 1, origin.ip);
    throw error;
  }

  /** SignInSucceeded (the decider refuses a code's step or a recovery code used before), then the session. */
  async complete(
    ctx: CommandContext,
    pending: PendingSignIn,
    method: SignInMethod,
    origin: RequestOrigin,
    used: { totpStep?: number; recoveryCode?: number } = {},
  ): Promise<TokenPair> {
    const { user, instanceAdmin } = pending;
    const sessionId = uuidv7();
    await onCredential(this.executor, ctx, user, {
      type: 'RecordSignIn',
      sessionId,
      method,
      origin,
      now: ctx.now,
      ...used,
    });
    this.throttle.succeeded(origin.ip);
    return this.sessions.start(
      ctx,
      { userId: user.userId, orgId: user.orgId, instanceAdmin },
      method,
      origin,
      sessionId,
    );
  }
}

@CommandHandler(CompleteMfaSignIn)
export class CompleteMfaSignInHandler implements ICommandHandler<CompleteMfaSignIn, TokenPair> {
  constructor(
    private readonly step: SecondStep,
    private readonly mfa: MfaCredentials,
  ) {}

  async execute({ ctx, input }: CompleteMfaSignIn): Promise<TokenPair> {
    const pending = await this.step.open(ctx, input.mfaToken, input.origin);
    const { user, cred } = pending;
    // An account whose MFA was turned off since the first step signs in again from the start.
    if (!cred.mfa.enabled) throw mfaStepRefused();
    if (input.code !== undefined) {
      const totpStep = this.mfa.stepOf(cred.mfa.sealedSecret, input.code, ctx.now);
      if (totpStep === null)
        return this.step.refuse(ctx, user, cred, 'mfa', input.origin, codeRefused('code'));
      return this.step.complete(ctx, pending, 'password+totp', input.origin, { totpStep });
    }
    const recoveryCode = this.mfa.recoveryIndexOf(cred, input.recoveryCode ?? '');
    if (recoveryCode === null)
      return this.step.refuse(ctx, user, cred, 'mfa', input.origin, codeRefused('recoveryCode'));
    return this.step.complete(ctx, pending, 'password+recovery-code', input.origin, { recoveryCode });
  }
}

const alreadyEnrolled = () =>
  new ConflictError('this account has MFA already: complete the sign-in at POST /v1/auth/mfa', [
    { field: 'mfa', problem: 'enabled' },
  ]);

@CommandHandler(EnrolTotpAtSignIn)
export class EnrolTotpAtSignInHandler implements ICommandHandler<EnrolTotpAtSignIn, TotpEnrolment> {
  constructor(
    private readonly step: SecondStep,
    private readonly mfa: MfaCredentials,
  ) {}

  async execute({ ctx, input }: EnrolTotpAtSignIn): Promise<TotpEnrolment> {
    const { user, cred } = await this.step.open(ctx, input.mfaToken, input.origin);
    if (cred.mfa.enabled) throw alreadyEnrolled();
    return this.mfa.startEnrolment(ctx, user);
  }
}

@CommandHandler(ConfirmTotpAtSignIn)
export class ConfirmTotpAtSignInHandler implements ICommandHandler<
  ConfirmTotpAtSignIn,
  RecoveryCodes & TokenPair
> {
  constructor(
    private readonly step: SecondStep,
    private readonly mfa: MfaCredentials,
  ) {}

  async execute({ ctx, input }: ConfirmTotpAtSignIn): Promise<RecoveryCodes & TokenPair> {
    const pending = await this.step.open(ctx, input.mfaToken, input.origin);
    if (pending.cred.mfa.enabled) throw alreadyEnrolled();
    const codes = await this.mfa.confirmEnrolment(ctx, pending.user, input.code);
    // The code's step was spent by the confirmation (MfaEnabled): the sign-in records no step of its own.
    const pair = await this.step.complete(ctx, pending, 'password+totp', input.origin);
    return { ...codes, ...pair };
  }
}
