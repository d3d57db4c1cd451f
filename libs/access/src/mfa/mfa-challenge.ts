import { Injectable } from '@nestjs/common';
import { CommandContext, CommandExecutor, uuidv7 } from '@purser/core';
import { LiveUser } from '@purser/directory';
import { mfaPolicyDecider, mfaRequiredFor } from './mfa-policy.decider';
import { AccessStreams } from '../streams';
import { AccessTokens } from '../tokens';
import { Rbac } from '../permissions/rbac';

/** The first step's answer when the account has MFA: a token that can only be exchanged at POST /v1/auth/mfa. */
export interface MfaStep {
  mfaRequired: true;
  /** The org's policy asks for MFA and the account has none: enrol at POST /v1/auth/mfa/enrol first. */
  enrolmentRequired?: true;
  mfaToken: string;
  methods: Array<'totp' | 'recoveryCode'>;
  expiresIn: number;
}

export const MFA_STEP_TTL_SECONDS = 300;

/** Issues the token of a sign-in's second step (typ 'mfa': refused as a credential by every other route). */
@Injectable()
export class MfaChallenges {
  constructor(
    private readonly tokens: AccessTokens,
    private readonly executor: CommandExecutor,
    private readonly rbac: Rbac,
  ) {}

  /**
   * The second step a sign-in with the right password owes, or null when it owes none: a code when the account
   * has MFA, an enrolment when the org's policy asks this user for MFA and the account has none.
   */
  async step(
    ctx: CommandContext,
    user: LiveUser,
    mfaEnabled: boolean,
    instanceAdmin: boolean,
  ): Promise<MfaStep | null> {
    if (mfaEnabled) return this.challenge(ctx, user, instanceAdmin);
    const policy = (await this.executor.current(AccessStreams.policy(user.orgId), mfaPolicyDecider)).state;
    if (policy.required === 'none') return null;
    const held = await this.rbac.holdings(user.orgId, { type: 'user', id: user.userId });
    const orgWide = held.roles.filter((r) => r.scope.type === 'org').map((r) => r.roleId);
    if (!mfaRequiredFor(policy.required, orgWide, instanceAdmin)) return null;
    return {
      ...(await this.challenge(ctx, user, instanceAdmin)),
      enrolmentRequired: true,
      methods: ['totp'],
    };
  }

  async challenge(ctx: CommandContext, user: LiveUser, instanceAdmin: boolean): Promise<MfaStep> {
    const mfaToken = await this.tokens.sign(
      { typ: 'mfa', sub: user.userId, org: user.orgId, sid: uuidv7(), adm: instanceAdmin },
      new Date(ctx.now),
      MFA_STEP_TTL_SECONDS,
    );
    return {
      mfaRequired: true,
      mfaToken,
      methods: ['totp', 'recoveryCode'],
      expiresIn: MFA_STEP_TTL_SECONDS,
    };
  }
}
