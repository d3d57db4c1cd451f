import { Body, Controller, Delete, Get, HttpCode, Inject, Param, Post, Query } from '@nestjs/common';
import { ApiTags } from '@nestjs/swagger';
import {
  CommandContext,
  EVENT_STORE,
  EventStore,
  NotFoundError,
  PositionWaiter,
  Principal,
  READ_STORE,
  ReadStore,
  RuleViolationError,
  instantOrThrow,
} from '@purser/core';
import { DirectoryLookup } from '@purser/directory';
import { Caller, Ctx, Endpoint, IdPipe } from '@purser/platform';
import { apiKeyNotFound } from './api-key.decider';
import { ApiKeys } from './api-keys';
import { ApiKeysQuery, CreateApiKeyDto, DEFAULT_OVERLAP_SECONDS, RotateApiKeyDto } from './api-keys.dto';
import { API_KEYS, API_KEYS_PROJECTION, ApiKeyDoc } from './api-keys.projection';
import { ApiKeySchemas } from './api-keys.schemas';
import { ApiKeyOwner } from '../events';

const OrgId = () => Param('orgId', IdPipe);
const KeyId = () => Param('keyId', IdPipe);

export function apiKeyView(d: ApiKeyDoc) {
  return {
    keyId: d._id,
    name: d.name,
    owner: { type: d.owner.type, id: d.owner.id },
    scopes: d.scopes,
    expiresAt: d.expiresAt,
    createdAt: d.createdAt,
    lastUsedAt: d.lastUsedAt,
    revoked: d.revoked,
    revokedAt: d.revokedAt,
    rotatedAt: d.rotatedAt,
  };
}

/**
 * API keys for agents: `prk_<keyId>_<secret>`, shown once at creation and rotation; the store keeps only the pepper
 * digest of the secret. A key acts in its org as actor {type: 'apiKey', id: keyId} while it, and its owner, live.
 */
@ApiTags('api-keys')
@Controller('v1/orgs/:orgId/api-keys')
export class ApiKeysController {
  constructor(
    private readonly keys: ApiKeys,
    private readonly directory: DirectoryLookup,
    @Inject(READ_STORE) private readonly store: ReadStore,
    @Inject(EVENT_STORE) private readonly events: EventStore,
    private readonly waiter: PositionWaiter,
  ) {}

  @Post()
  @Endpoint({
    summary: 'Create an API key (its key is in this answer only)',
    requires: 'apikey.manage',
    created: { description: 'Created', schema: ApiKeySchemas.created },
    errors: [404, 422],
  })
  async create(
    @Ctx() ctx: CommandContext,
    @Caller() caller: Principal,
    @OrgId() orgId: string,
    @Body() body: CreateApiKeyDto,
  ) {
    const owner = await this.liveOwner(orgId, body.owner ?? this.defaultOwner(caller, orgId));
    const expiresAt =
      body.expiresAt === undefined || body.expiresAt === null
        ? null
        : instantOrThrow(body.expiresAt, 'expiresAt');
    if (expiresAt !== null && expiresAt <= ctx.now)
      throw new RuleViolationError('expiresAt must be in the future', [
        { field: 'expiresAt', problem: 'not in the future' },
      ]);
    const issued = await this.keys.issue(ctx, {
      orgId,
      owner,
      name: body.name,
      scopes: [...new Set(body.scopes ?? [])],
      expiresAt,
    });
    const { orgId: _org, ...answer } = issued;
    return answer;
  }

  @Get()
  @Endpoint({
    summary: "The org's API keys, newest first, with cursor paging (never their secrets)",
    requires: 'apikey.manage',
    ok: { description: 'A page of API keys', schema: ApiKeySchemas.page },
  })
  async list(@OrgId() orgId: string, @Query() q: ApiKeysQuery) {
    await this.settled();
    const page = await this.store.find<ApiKeyDoc>(
      API_KEYS,
      { orgId },
      { sort: { createdAt: -1 }, limit: q.limit ?? 50, cursor: q.cursor },
    );
    return { items: page.items.map(apiKeyView), nextCursor: page.nextCursor ?? null };
  }

  @Get(':keyId')
  @Endpoint({
    summary: 'Read an API key (never its secret)',
    requires: 'apikey.manage',
    ok: { description: 'The API key', schema: ApiKeySchemas.apiKey },
    errors: [404],
  })
  async get(@OrgId() orgId: string, @KeyId() keyId: string) {
    await this.settled();
    const doc = await this.store.get<ApiKeyDoc>(API_KEYS, keyId);
    if (!doc || doc.orgId !== orgId) throw apiKeyNotFound(keyId);
    return apiKeyView(doc);
  }

  @Post(':keyId/rotate')
  @HttpCode(200)
  @Endpoint({
    summary: 'Rotate an API key: a new key; the one in use keeps working for overlapSeconds',
    requires: 'apikey.manage',
    ok: { description: 'The new key (in this answer only)', schema: ApiKeySchemas.rotated },
    errors: [404, 409],
  })
  rotate(
    @Ctx() ctx: CommandContext,
    @OrgId() orgId: string,
    @KeyId() keyId: string,
    @Body() body: RotateApiKeyDto,
  ) {
    return this.keys.rotate(ctx, orgId, keyId, body.overlapSeconds ?? DEFAULT_OVERLAP_SECONDS);
  }

  @Delete(':keyId')
  @HttpCode(204)
  @Endpoint({
    summary: 'Revoke an API key: refused from the next request on',
    requires: 'apikey.manage',
    responses: [{ status: 204, description: 'Revoked (or already revoked)' }],
    errors: [404],
  })
  async revoke(@Ctx() ctx: CommandContext, @OrgId() orgId: string, @KeyId() keyId: string) {
    await this.keys.ofOrg(orgId, keyId);
    await this.keys.revoke(ctx, orgId, keyId, 'revoked');
  }

  /** The signed-in user of the org by default; the break-glass token, an API key or a visitor must name one. */
  private defaultOwner(caller: Principal, orgId: string): ApiKeyOwner {
    if (caller.via === 'session' && caller.orgId === orgId) return { type: 'user', id: caller.actor.id };
    throw new RuleViolationError('owner is required unless a signed-in user of the org creates the key', [
      { field: 'owner', problem: 'required' },
    ]);
  }

  private async liveOwner(orgId: string, owner: ApiKeyOwner): Promise<ApiKeyOwner> {
    if (owner.type === 'user') {
      const user = await this.directory.user(owner.id);
      if (!user || user.orgId !== orgId)
        throw new NotFoundError(`user ${owner.id} not found`, [{ field: 'owner.id', problem: 'unknown' }]);
      if (user.status !== 'active')
        throw new RuleViolationError(`user ${owner.id} is deactivated: their keys would not work`, [
          { field: 'owner.id', problem: 'inactive' },
        ]);
    } else if (!(await this.directory.team(orgId, owner.id))) {
      throw new NotFoundError(`team ${owner.id} not found`, [{ field: 'owner.id', problem: 'unknown' }]);
    }
    return { type: owner.type, id: owner.id };
  }

  /** Waits (a few seconds at most) until the keys read model holds every change committed before the call. */
  private async settled(): Promise<void> {
    await this.waiter.waitFor(await this.events.headPosition(), [API_KEYS_PROJECTION], 5_000);
  }
}
