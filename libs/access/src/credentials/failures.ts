import { Inject, Injectable } from '@nestjs/common';
import { CommandContext, CommandExecutor } from '@purser/core';
import { LiveUser } from '@purser/directory';
import { CONFIG, PurserConfig } from '@purser/platform';
import { RequestOrigin, SignInFailureReason } from '../events';
import { onCredential } from './credential.decider';
import { SignInThrottle, sleep } from './throttle';

/** A failed sign-in step (password or code): recorded on the account (toward its lock) and answered slowly. */
@Injectable()
export class SignInFailures {
  constructor(
    private readonly executor: CommandExecutor,
    private readonly throttle: SignInThrottle,
    @Inject(CONFIG) private readonly config: PurserConfig,
  ) {}

  /** SignInFailed (and AccountLocked at the threshold) on the user's credential stream. */
  async record(
    ctx: CommandContext,
    user: LiveUser,
    reason: SignInFailureReason,
    origin: RequestOrigin,
  ): Promise<void> {
    await onCredential(this.executor, ctx, user, {
      type: 'RecordFailure',
      reason,
      origin,
      now: ctx.now,
      threshold: this.config.access.lockoutThreshold,
      lockSeconds: this.config.access.lockoutSeconds,
    });
  }

  /** Waits what the account's and the address's failures owe before the refusal is answered. */
  async slowDown(accountFailures: number, ip: string): Promise<void> {
    const delay = this.throttle.delayFor(accountFailures, ip);
    this.throttle.failed(ip);
    if (delay > 0) await sleep(delay);
  }
}
