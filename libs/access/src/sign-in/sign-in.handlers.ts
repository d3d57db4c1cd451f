import { Inject } from '@nestjs/common';
import { CommandHandler, ICommandHandler } from '@nestjs/cqrs';
import { CommandContext, CommandExecutor, NotFoundError, UnauthenticatedError, uuidv7 } from '@purser/core';
import { DirectoryLookup, LiveUser } from '@purser/directory';
import { CONFIG, PurserConfig } from '@purser/platform';
import {
  ChangePassword,
  EndSession,
  RefreshSession,
  SetUserPassword,
  SignIn,
  UnlockAccount,
} from './commands';
import {
  CredentialState,
  credentialDecider,
  isLocked,
  onCredential,
} from '../credentials/credential.decider';
import { RequestOrigin, SignInFailureReason } from '../events';
import { Instance } from '../setup/instance';
import { KeyMaterial, randomSecret } from '../key-material';
import { Passwords } from '../credentials/passwords';
import { MfaChallenges, MfaStep } from '../mfa/mfa-challenge';
import { refreshRefused, sessionDecider } from '../sessions/session.decider';
import { REFRESH_PREFIX, SessionIssuer, TokenPair } from '../sessions/sessions';
import { AccessStreams } from '../streams';
import { storePassword, userIn } from '../users';
import { OpenSessions } from '../sessions/open-sessions';
import { SignInThrottle } from '../credentials/throttle';
import { SignInFailures } from '../credentials/failures';
import { parseToken } from '../tokens';

/** The one answer to every failed sign-in: which part was wrong (user, password, lock, status) is not told. */
export const signInRefused = () =>
  new UnauthenticatedError('the username or email, or the password, is wrong', [
    { field: 'password', problem: 'invalid credentials' },
  ]);

export type SignInResult = TokenPair | MfaStep;

@CommandHandler(SignIn)
export class SignInHandler implements ICommandHandler<SignIn, SignInResult> {
  constructor(
    private readonly executor: CommandExecutor,
    private readonly directory: DirectoryLookup,
    private readonly passwords: Passwords,
    private readonly sessions: SessionIssuer,
    private readonly throttle: SignInThrottle,
    private readonly failures: SignInFailures,
    private readonly instance: Instance,
    private readonly mfa: MfaChallenges,
    @Inject(CONFIG) private readonly config: PurserConfig,
  ) {}

  async execute({ ctx, input }: SignIn): Promise<SignInResult> {
    const user = await this.directory.userByName(input.orgId, input.name);
    const cred = user
      ? (await this.executor.current(AccessStreams.credential(user.userId), credentialDecider)).state
      : null;
    // argon2 runs whether or not the user exists (the decoy hash), so both answers take as long.
    const ok = await this.passwords.verify(cred?.passwordHash ?? null, input.password);
    if (!user || !cred) return this.refuse(0, input.origin.ip);
    const reason: SignInFailureReason | null = isLocked(cred, ctx.now)
      ? 'locked'
      : user.status !== 'active'
        ? 'inactive'
        : cred.passwordHash === null
          ? 'no-password'
          : ok
            ? null
            : 'password';
    if (reason) {
      await this.failures.record(ctx, user, reason, input.origin);
      return this.refuse(cred.failures + 1, input.origin.ip);
    }
    const instanceAdmin = await this.instance.isAdministrator(user.userId);
    const step = await this.mfa.step(ctx, user, cred.mfa.enabled, instanceAdmin);
    if (step) return step;
    return this.complete(ctx, user, cred, instanceAdmin, input.origin);
  }

  private async complete(
    ctx: CommandContext,
    user: LiveUser,
    _cred: CredentialState,
    instanceAdmin: boolean,
    origin: RequestOrigin,
  ): Promise<TokenPair> {
    const sessionId = uuidv7();
    await onCredential(this.executor, ctx, user, {
      type: 'RecordSignIn',
      sessionId,
      method: 'password',
      origin,
      now: ctx.now,
    });
    this.throttle.succeeded(origin.ip);
    return this.sessions.start(
      ctx,
      { userId: user.userId, orgId: user.orgId, instanceAdmin },
      'password',
      origin,
      sessionId,
    );
  }

  private async refuse(accountFailures: number, ip: string): Promise<never> {
    await this.failures.slowDown(accountFailures, ip);
    throw signInRefused();
  }
}

@CommandHandler(RefreshSession)
export class RefreshSessionHandler implements ICommandHandler<RefreshSession, TokenPair> {
  constructor(
    private readonly executor: CommandExecutor,
    private readonly keys: KeyMaterial,
    private readonly sessions: SessionIssuer,
    private readonly directory: DirectoryLookup,
    private readonly instance: Instance,
  ) {}

  async execute({ ctx, input }: RefreshSession): Promise<TokenPair> {
    const parsed = parseToken(REFRESH_PREFIX, input.refreshToken);
    if (!parsed) throw refreshRefused();
    const stream = AccessStreams.session(parsed.id);
    const { state } = await this.executor.current(stream, sessionDecider);
    if (!state.userId || !state.orgId) throw refreshRefused();
    const next = randomSecret();
    const r = await this.executor.execute(
      stream,
      sessionDecider,
      {
        type: 'Refresh',
        presentedDigest: this.keys.digest(parsed.secret),
        nextDigest: this.keys.digest(next),
        now: ctx.now,
      },
      ctx,
      { orgId: state.orgId },
    );
    // A spent token presented again ended the family (SessionRevoked): the caller gets nothing.
    if (r.events.length !== 1 || r.events[0].type !== 'SessionRefreshed') throw refreshRefused();
    const user = await this.directory.user(state.userId);
    if (!user || user.status !== 'active') {
      await this.sessions.revoke(ctx, parsed.id, 'user-deactivated', state.orgId);
      throw refreshRefused();
    }
    const instanceAdmin = await this.instance.isAdministrator(state.userId);
    return this.sessions.pair(
      ctx,
      { userId: state.userId, orgId: state.orgId, instanceAdmin },
      parsed.id,
      next,
    );
  }
}

export const sessionNotFound = (sessionId: string) =>
  new NotFoundError(`session ${sessionId} not found`, [{ field: 'sessionId', problem: 'unknown' }]);

@CommandHandler(EndSession)
export class EndSessionHandler implements ICommandHandler<EndSession, { revoked: boolean }> {
  constructor(
    private readonly executor: CommandExecutor,
    private readonly sessions: SessionIssuer,
  ) {}

  async execute({ ctx, input }: EndSession) {
    const { state } = await this.executor.current(AccessStreams.session(input.sessionId), sessionDecider);
    if (
      !state.sessionId ||
      state.orgId !== input.orgId ||
      (input.userId !== undefined && state.userId !== input.userId)
    )
      throw sessionNotFound(input.sessionId);
    return { revoked: await this.sessions.revoke(ctx, input.sessionId, input.reason, input.orgId) };
  }
}

@CommandHandler(ChangePassword)
export class ChangePasswordHandler implements ICommandHandler<ChangePassword, { sessionsEnded: number }> {
  constructor(
    private readonly executor: CommandExecutor,
    private readonly directory: DirectoryLookup,
    private readonly passwords: Passwords,
    private readonly sessions: OpenSessions,
  ) {}

  async execute({ ctx, input }: ChangePassword) {
    const user = await userIn(this.directory, input.orgId, input.userId);
    const stream = AccessStreams.credential(input.userId);
    const { state } = await this.executor.current(stream, credentialDecider);
    if (!(await this.passwords.verify(state.passwordHash, input.currentPassword))) {
      throw new UnauthenticatedError('the current password is wrong', [
        { field: 'currentPassword', problem: 'wrong' },
      ]);
    }
    await storePassword(this.executor, this.passwords, ctx, user, input.newPassword, 'newPassword', 'change');
    // Every other session ends: whoever knew the old password is signed out.
    const ended = await this.sessions.endAll(
      ctx,
      user.orgId,
      user.userId,
      'password-changed',
      input.sessionId,
    );
    return { sessionsEnded: ended };
  }
}

@CommandHandler(SetUserPassword)
export class SetUserPasswordHandler implements ICommandHandler<SetUserPassword, { sessionsEnded: number }> {
  constructor(
    private readonly executor: CommandExecutor,
    private readonly directory: DirectoryLookup,
    private readonly passwords: Passwords,
    private readonly sessions: OpenSessions,
  ) {}

  async execute({ ctx, input }: SetUserPassword) {
    const user = await userIn(this.directory, input.orgId, input.userId);
    await storePassword(this.executor, this.passwords, ctx, user, input.password, 'password', 'set');
    return { sessionsEnded: await this.sessions.endAll(ctx, user.orgId, user.userId, 'password-changed') };
  }
}

@CommandHandler(UnlockAccount)
export class UnlockAccountHandler implements ICommandHandler<UnlockAccount, { unlocked: boolean }> {
  constructor(
    private readonly executor: CommandExecutor,
    private readonly directory: DirectoryLookup,
  ) {}

  async execute({ ctx, input }: UnlockAccount) {
    const user = await userIn(this.directory, input.orgId, input.userId);
    const r = await onCredential(this.executor, ctx, user, { type: 'Unlock', now: ctx.now });
    return { unlocked: r.events.length > 0 };
  }
}
