import { Inject, Injectable } from '@nestjs/common';
import { AuthRequest, Clock, CommandExecutor, Principal } from '@purser/core';
import { DirectoryLookup } from '@purser/directory';
import { CLOCK, LOGGER, PurserLogger } from '@purser/platform';
import { randomUUID } from 'node:crypto';
import { ApiKeyVerifier } from './authenticator';
import { ApiKeyState, apiKeyDecider, isUsable } from './api-key.decider';
import { KeyMaterial } from './key-material';
import { AccessStreams } from './streams';
import { parseToken } from './tokens';

export const API_KEY_TOKEN_PREFIX = 'prk';

/**
 * Verifies `prk_<keyId>_<secret>` keys on the hot path: one read of the key's stream (cached fold), an HMAC-SHA256 of
 * the 256-bit secret under the pepper compared in constant time (microseconds, no argon2: the secret is random, not
 * a password), and the owner's liveness. The first use of a day is recorded (ApiKeyUsed) off the request path.
 */
@Injectable()
export class ApiKeys extends ApiKeyVerifier {
  private readonly recording = new Set<string>();

  constructor(
    private readonly executor: CommandExecutor,
    private readonly keys: KeyMaterial,
    private readonly directory: DirectoryLookup,
    @Inject(CLOCK) private readonly clock: Clock,
    @Inject(LOGGER) private readonly logger: PurserLogger,
  ) {
    super();
  }

  async state(keyId: string): Promise<ApiKeyState> {
    return (await this.executor.current(AccessStreams.apiKey(keyId), apiKeyDecider)).state;
  }

  async verify(credential: string, request: AuthRequest): Promise<Principal | null> {
    const parsed = parseToken(API_KEY_TOKEN_PREFIX, credential);
    if (!parsed) return null;
    const s = await this.state(parsed.id);
    const now = this.clock.nowIso();
    if (!isUsable(s, now) || !s.orgId || !s.owner || !s.secretDigest) return null;
    const current = this.keys.matches(parsed.secret, s.secretDigest);
    const previous =
      !current &&
      s.previous !== null &&
      s.previous.validUntil > now &&
      this.keys.matches(parsed.secret, s.previous.secretDigest);
    if (!current && !previous) return null;
    if (!(await this.ownerIsLive(s))) return null;
    this.recordUse(s, now, request.ip ?? 'unknown');
    return {
      actor: { type: 'apiKey', id: s.keyId as string, orgId: s.orgId },
      orgId: s.orgId,
      instanceAdmin: false,
      via: 'apiKey',
      scopes: s.scopes,
    };
  }

  private async ownerIsLive(s: ApiKeyState): Promise<boolean> {
    const owner = s.owner!;
    if (owner.type === 'user') {
      const user = await this.directory.user(owner.id);
      return !!user && user.orgId === s.orgId && user.status === 'active';
    }
    return (await this.directory.team(s.orgId!, owner.id)) !== null;
  }

  /** ApiKeyUsed once per key and UTC day, appended after the answer (a lost one is written by the next use). */
  private recordUse(s: ApiKeyState, now: string, ip: string): void {
    const day = now.slice(0, 10);
    const key = `${s.keyId}|${day}`;
    if (s.lastUsedDay === day || this.recording.has(key)) return;
    this.recording.add(key);
    setImmediate(() => {
      this.executor
        .execute(
          AccessStreams.apiKey(s.keyId as string),
          apiKeyDecider,
          { type: 'RecordApiKeyUse', day, ip },
          {
            actor: { type: 'apiKey', id: s.keyId as string, orgId: s.orgId as string },
            correlationId: randomUUID(),
            now,
          },
          { orgId: s.orgId },
        )
        .catch((err: unknown) =>
          this.logger.warn({ keyId: s.keyId, err: String(err) }, 'could not record API key use'),
        )
        .finally(() => this.recording.delete(key));
    });
  }
}
