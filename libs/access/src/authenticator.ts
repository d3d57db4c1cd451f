import { Inject, Injectable } from '@nestjs/common';
import { AuthRequest, Authenticator, Clock, CommandExecutor, Principal } from '@purser/core';
import { DirectoryLookup } from '@purser/directory';
import { BreakGlass, CLOCK, bearerOf, unauthenticated } from '@purser/platform';
import { Instance } from './setup/instance';
import { isActiveSession, sessionDecider } from './sessions/session.decider';
import { AccessStreams } from './streams';
import { AccessTokens } from './tokens';

/** What verifies an API key (`prk_...`): the API keys part of this context. */
export abstract class ApiKeyVerifier {
  abstract verify(credential: string, request: AuthRequest): Promise<Principal | null>;
}

export const API_KEY_PREFIX = 'prk_';

/**
 * Who calls: `Authorization: Bearer <credential>`, where the credential is an access token (a signed JWT of a live
 * session of an active user), an API key, or the break-glass token. Every check reads current state, so a revoked
 * session or key, or a deactivated user, is refused on the very next request.
 */
@Injectable()
export class AccessAuthenticator implements Authenticator {
  constructor(
    private readonly tokens: AccessTokens,
    private readonly executor: CommandExecutor,
    private readonly directory: DirectoryLookup,
    private readonly instance: Instance,
    private readonly breakGlass: BreakGlass,
    private readonly apiKeys: ApiKeyVerifier,
    @Inject(CLOCK) private readonly clock: Clock,
  ) {}

  async authenticate(request: AuthRequest): Promise<Principal> {
    const credential = bearerOf(request);
    if (!credential) throw unauthenticated('missing');
    if (credential.startsWith(API_KEY_PREFIX)) {
      const principal = await this.apiKeys.verify(credential, request);
      if (!principal) throw unauthenticated('not a valid API key');
      return principal;
    }
    const broken = this.breakGlass.match(credential);
    if (broken) return broken;
    const now = this.clock.now();
    const claims = await this.tokens.verify(credential, 'access', now);
    if (!claims) throw unauthenticated('not a valid access token (or it expired)');
    const [session, user] = await Promise.all([
      this.executor.current(AccessStreams.session(claims.sid), sessionDecider),
      this.directory.user(claims.sub, 'current'),
    ]);
    if (!isActiveSession(session.state, now.toISOString()) || session.state.userId !== claims.sub)
      throw unauthenticated('the session has ended');
    if (!user || user.orgId !== claims.org || user.status !== 'active')
      throw unauthenticated('the user is inactive or gone');
    const instanceAdmin = claims.adm === true && (await this.instance.isAdministrator(claims.sub));
    return {
      actor: { type: 'user', id: claims.sub, orgId: claims.org },
      orgId: claims.org,
      instanceAdmin,
      via: 'session',
      sessionId: claims.sid,
    };
  }
}
