import { Injectable } from '@nestjs/common';
import { CommandContext, uuidv7 } from '@purser/core';
import { LiveUser } from '@purser/directory';
import { AccessTokens } from './tokens';

/** The first step's answer when the account has MFA: a token that can only be exchanged at POST /v1/auth/mfa. */
export interface MfaStep {
  mfaRequired: true;
  mfaToken: string;
  methods: Array<'totp' | 'recoveryCode'>;
  expiresIn: number;
}

export const MFA_STEP_TTL_SECONDS = 300;

/** Issues the token of a sign-in's second step (typ 'mfa': refused as a credential by every other route). */
@Injectable()
export class MfaChallenges {
  constructor(private readonly tokens: AccessTokens) {}

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
