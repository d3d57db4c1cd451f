import { Inject, Injectable } from '@nestjs/common';
import { AuthRequest, Clock, CommandContext, CommandExecutor, Principal, uuidv7 } from '@purser/core';
import { DirectoryLookup } from '@purser/directory';
import { CLOCK, LOGGER, PurserLogger } from '@purser/platform';
import { randomUUID } from 'node:crypto';
import { ApiKeyVerifier } from '../authenticator';
import { ApiKeyState, apiKeyDecider, apiKeyNotFound, isUsable } from './api-key.decider';
import { ApiKeyOwner, ApiKeyRevoked } from '../events';
import { KeyMaterial, randomSecret } from '../key-material';
import { AccessStreams } from '../streams';
import { composeToken, parseToken } from '../tokens';

/** A new key as answered once: `key` is the only place its secret ever appears. */
export interface IssuedApiKey {
  keyId: string;
  key: string;
  orgId: string;
  name: string;
  owner: ApiKeyOwner;
  scopes: string[];
  expiresAt: string | null;
  createdAt: string;
}

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

  /** Creates a key: its stream records only the pepper digest of the secret; the key is answered once. */
  async issue(
    ctx: CommandContext,
    key: { orgId: string; owner: ApiKeyOwner; name: string; scopes: string[]; expiresAt: string | null },
  ): Promise<IssuedApiKey> {
    const keyId = uuidv7();
    const secret = randomSecret();
    await this.executor.execute(
      AccessStreams.apiKey(keyId),
      apiKeyDecider,
      { type: 'CreateApiKey', keyId, ...key, secretDigest: this.keys.digest(secret) },
      ctx,
      { orgId: key.orgId },
    );
    return {
      keyId,
      key: composeToken(API_KEY_TOKEN_PREFIX, keyId, secret),
      ...key,
      createdAt: ctx.now,
    };
  }

  /** A key of the org (404 for an unknown key or another org's, alike). */
  async ofOrg(orgId: string, keyId: string): Promise<ApiKeyState> {
    const s = await this.state(keyId);
    if (s.keyId === null || s.orgId !== orgId) throw apiKeyNotFound(keyId);
    return s;
  }

  /** A new secret; the one in use keeps working for overlapSeconds (0: it stops at once). */
  async rotate(ctx: CommandContext, orgId: string, keyId: string, overlapSeconds: number) {
    await this.ofOrg(orgId, keyId);
    const secret = randomSecret();
    const previousValidUntil = new Date(Date.parse(ctx.now) + overlapSeconds * 1000).toISOString();
    await this.executor.execute(
      AccessStreams.apiKey(keyId),
      apiKeyDecider,
      { type: 'RotateApiKey', secretDigest: this.keys.digest(secret), previousValidUntil, now: ctx.now },
      ctx,
      { orgId },
    );
    return { keyId, key: composeToken(API_KEY_TOKEN_PREFIX, keyId, secret) };
  }

  /** Revokes a key (again: nothing appended). Answers whether this call revoked it. */
  async revoke(
    ctx: CommandContext,
    orgId: string,
    keyId: string,
    reason: ApiKeyRevoked['data']['reason'],
  ): Promise<boolean> {
    const r = await this.executor.execute(
      AccessStreams.apiKey(keyId),
      apiKeyDecider,
      { type: 'RevokeApiKey', reason },
      ctx,
      { orgId },
    );
    return r.events.length > 0;
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
      keyOwner: { type: s.owner.type, id: s.owner.id },
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
