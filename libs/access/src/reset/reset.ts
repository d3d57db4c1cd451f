import { Inject, Injectable, OnApplicationShutdown } from '@nestjs/common';
import { CommandHandler, ICommandHandler } from '@nestjs/cqrs';
import { CommandContext, CommandExecutor, MAILER, Mailer, OutgoingMail, uuidv7 } from '@purser/core';
import { DirectoryLookup, LiveUser } from '@purser/directory';
import { CONFIG, LOGGER, PurserConfig, PurserLogger } from '@purser/platform';
import { SignInName } from '../sign-in/commands';
import { RESET_INVALID, credentialDecider, onCredential } from '../credentials/credential.decider';
import { RequestOrigin } from '../events';
import { KeyMaterial, randomSecret } from '../key-material';
import { OpenSessions } from '../sessions/open-sessions';
import { Passwords } from '../credentials/passwords';
import { AccessStreams } from '../streams';
import { composeToken, parseToken } from '../tokens';

/**
 * Password reset by mail. A request is answered at once, the same way whether or not the account exists; the work
 * (the lookup, the PasswordResetRequested event, the mail) runs after the answer. The link carries
 * `prr_<userId>_<secret>`: the user id finds the credential stream, the secret is kept only as its keyed digest.
 */
export const RESET_PREFIX = 'prr';
const DEFAULT_PUBLIC_URL = 'http://localhost:3000';

export class RequestPasswordReset {
  constructor(
    readonly ctx: CommandContext,
    readonly input: { orgId: string; name: SignInName; origin: RequestOrigin },
  ) {}
}

export class CompletePasswordReset {
  constructor(
    readonly ctx: CommandContext,
    readonly input: { token: string; newPassword: string },
  ) {}
}

const escapeHtml = (s: string) =>
  s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);

/** The reset mail: the link and the token itself (for a console on another device), in text and HTML. */
export function resetMail(
  user: Pick<LiveUser, 'email' | 'username' | 'displayName'>,
  token: string,
  publicUrl: string | null,
  ttlSeconds: number,
): OutgoingMail {
  const link = `${(publicUrl ?? DEFAULT_PUBLIC_URL).replace(/\/+$/, '')}/reset?token=${encodeURIComponent(token)}`;
  const minutes = Math.round(ttlSeconds / 60);
  const name = user.displayName ?? user.username;
  const text = [
    `Hello ${name},`,
    '',
    'Someone (we hope you) asked to reset the password of your Purser account.',
    `To choose a new password, open this link within ${minutes} minutes:`,
    '',
    link,
    '',
    'Or paste this reset token into the console:',
    '',
    token,
    '',
    'The link works once. Using it signs you out everywhere.',
    'If you did not ask for this, ignore this mail: your password stays as it is.',
  ].join('\n');
  const html = [
    `<p>Hello ${escapeHtml(name)},</p>`,
    '<p>Someone (we hope you) asked to reset the password of your Purser account.</p>',
    `<p><a href="${escapeHtml(link)}">Choose a new password</a> within ${minutes} minutes.</p>`,
    `<p>Or paste this reset token into the console:<br><code>${escapeHtml(token)}</code></p>`,
    '<p>The link works once. Using it signs you out everywhere.<br>',
    'If you did not ask for this, ignore this mail: your password stays as it is.</p>',
  ].join('\n');
  return {
    to: user.email,
    subject: 'Reset your Purser password',
    text,
    html,
    headers: { 'X-Purser-Kind': 'password-reset' },
  };
}

/** Runs reset requests after their answer, and waits for the ones under way when the app stops. */
@Injectable()
export class PasswordResetMailer implements OnApplicationShutdown {
  private readonly pending = new Set<Promise<void>>();

  constructor(
    private readonly executor: CommandExecutor,
    private readonly directory: DirectoryLookup,
    private readonly keys: KeyMaterial,
    @Inject(MAILER) private readonly mailer: Mailer,
    @Inject(CONFIG) private readonly config: PurserConfig,
    @Inject(LOGGER) private readonly logger: PurserLogger,
  ) {}

  /** Takes the request and returns at once: what it finds (or not) never shows in the answer or its timing. */
  accept(ctx: CommandContext, input: RequestPasswordReset['input']): void {
    const job: Promise<void> = new Promise<void>((resolve) => setImmediate(resolve))
      .then(() => this.deliver(ctx, input))
      .catch((err: unknown) =>
        // The token never reaches a log: only who and why.
        this.logger.warn(
          { orgId: input.orgId, err: err instanceof Error ? err.message : String(err) },
          'password reset mail not sent',
        ),
      )
      .finally(() => this.pending.delete(job));
    this.pending.add(job);
  }

  private async deliver(ctx: CommandContext, input: RequestPasswordReset['input']): Promise<void> {
    const user = await this.directory.userByName(input.orgId, input.name);
    if (!user || user.status !== 'active') return;
    if (!this.mailer.enabled) {
      this.logger.warn({ orgId: user.orgId }, 'password reset asked for, but mail is off: nothing sent');
      return;
    }
    const ttl = this.config.access.resetTokenTtlSeconds;
    const resetId = uuidv7();
    const secret = randomSecret();
    const token = composeToken(RESET_PREFIX, user.userId, secret);
    await onCredential(this.executor, ctx, user, {
      type: 'RequestReset',
      resetId,
      tokenDigest: this.keys.digest(secret),
      expiresAt: new Date(Date.parse(ctx.now) + ttl * 1000).toISOString(),
      origin: input.origin,
    });
    const { messageId } = await this.mailer.send(resetMail(user, token, this.config.access.publicUrl, ttl));
    this.logger.info(
      { orgId: user.orgId, userId: user.userId, resetId, messageId },
      'password reset mail sent',
    );
  }

  /** Resolves once every accepted request has been handled. */
  async settled(): Promise<void> {
    while (this.pending.size) await Promise.allSettled([...this.pending]);
  }

  onApplicationShutdown(): Promise<void> {
    return this.settled();
  }
}

@CommandHandler(RequestPasswordReset)
export class RequestPasswordResetHandler implements ICommandHandler<RequestPasswordReset, void> {
  constructor(private readonly resets: PasswordResetMailer) {}

  async execute({ ctx, input }: RequestPasswordReset): Promise<void> {
    this.resets.accept(ctx, input);
  }
}

@CommandHandler(CompletePasswordReset)
export class CompletePasswordResetHandler implements ICommandHandler<
  CompletePasswordReset,
  { sessionsEnded: number }
> {
  constructor(
    private readonly executor: CommandExecutor,
    private readonly directory: DirectoryLookup,
    private readonly keys: KeyMaterial,
    private readonly passwords: Passwords,
    private readonly sessions: OpenSessions,
  ) {}

  async execute({ ctx, input }: CompletePasswordReset) {
    const parsed = parseToken(RESET_PREFIX, input.token);
    if (!parsed) throw RESET_INVALID();
    const user = await this.directory.user(parsed.id);
    if (!user || user.status !== 'active') throw RESET_INVALID();
    const stream = AccessStreams.credential(user.userId);
    const { state } = await this.executor.current(stream, credentialDecider);
    // The link is judged before the password, so a bad link says only that (and costs no argon2 hash).
    if (
      !state.reset ||
      !this.keys.matches(parsed.secret, state.reset.tokenDigest) ||
      state.reset.expiresAt <= ctx.now
    )
      throw RESET_INVALID();
    const password = this.passwords.assertStrong(input.newPassword, 'newPassword', [
      user.username,
      user.email,
      user.displayName ?? '',
    ]);
    const hash = await this.passwords.hash(password);
    // The decider decides again on the stream as it is when appending: a link used meanwhile is refused.
    await this.executor.execute(
      stream,
      credentialDecider,
      {
        type: 'CompleteReset',
        userId: user.userId,
        orgId: user.orgId,
        tokenDigest: this.keys.digest(parsed.secret),
        hash,
        now: ctx.now,
      },
      ctx,
      { orgId: user.orgId },
    );
    // Whoever held the old password (or a session) is signed out.
    return { sessionsEnded: await this.sessions.endAll(ctx, user.orgId, user.userId, 'password-reset') };
  }
}
