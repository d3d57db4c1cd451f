import { Inject, Injectable } from '@nestjs/common';
import { CommandContext, CommandExecutor, uuidv7 } from '@purser/core';
import { CONFIG, PurserConfig } from '@purser/platform';
import { RequestOrigin, SessionRevokeReason, SignInMethod } from '../events';
import { KeyMaterial, randomSecret } from '../key-material';
import { AccessStreams } from '../streams';
import { sessionDecider } from './session.decider';
import { AccessTokens, composeToken } from '../tokens';

export const REFRESH_PREFIX = 'prt';

/** What a completed sign-in answers (the fixed contract of POST /v1/auth/login and /v1/setup). */
export interface TokenPair {
  accessToken: string;
  refreshToken: string;
  tokenType: 'Bearer';
  /** Seconds until the access token expires. */
  expiresIn: number;
  sessionId: string;
}

/** Starts, rotates and ends sessions, and signs their access tokens. */
@Injectable()
export class SessionIssuer {
  constructor(
    private readonly executor: CommandExecutor,
    private readonly keys: KeyMaterial,
    private readonly tokens: AccessTokens,
    @Inject(CONFIG) private readonly config: PurserConfig,
  ) {}

  async start(
    ctx: CommandContext,
    who: { userId: string; orgId: string; instanceAdmin: boolean },
    method: SignInMethod | 'setup',
    origin: RequestOrigin,
    sessionId: string = uuidv7(),
  ): Promise<TokenPair> {
    const secret = randomSecret();
    const expiresAt = new Date(
      Date.parse(ctx.now) + this.config.access.sessionTtlSeconds * 1000,
    ).toISOString();
    await this.executor.execute(
      AccessStreams.session(sessionId),
      sessionDecider,
      {
        type: 'StartSession',
        sessionId,
        userId: who.userId,
        orgId: who.orgId,
        method,
        refreshDigest: this.keys.digest(secret),
        expiresAt,
        origin,
      },
      ctx,
      { orgId: who.orgId },
    );
    return this.pair(ctx, who, sessionId, secret);
  }

  async pair(
    ctx: CommandContext,
    who: { userId: string; orgId: string; instanceAdmin: boolean },
    sessionId: string,
    refreshSecret: string,
  ): Promise<TokenPair> {
    const ttl = this.config.access.accessTokenTtlSeconds;
    const accessToken = await this.tokens.sign(
      { typ: 'access', sub: who.userId, org: who.orgId, sid: sessionId, adm: who.instanceAdmin },
      new Date(ctx.now),
      ttl,
    );
    return {
      accessToken,
      refreshToken: composeToken(REFRESH_PREFIX, sessionId, refreshSecret),
      tokenType: 'Bearer',
      expiresIn: ttl,
      sessionId,
    };
  }

  async revoke(
    ctx: CommandContext,
    sessionId: string,
    reason: SessionRevokeReason,
    orgId: string,
  ): Promise<boolean> {
    const r = await this.executor.execute(
      AccessStreams.session(sessionId),
      sessionDecider,
      { type: 'Revoke', reason },
      ctx,
      { orgId },
    );
    return r.events.length > 0;
  }
}
