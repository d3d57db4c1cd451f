import { Inject, Injectable, OnApplicationBootstrap } from '@nestjs/common';
import { CommandBus, CommandHandler, ICommandHandler } from '@nestjs/cqrs';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { CommandExecutor, SYSTEM_ACTOR, UnauthenticatedError, accepted } from '@purser/core';
import { CreateOrg, CreateUser, DeleteOrg, DirectoryCommandResult } from '@purser/directory';
import { CONFIG, HeldSecret, LOGGER, PurserConfig, PurserLogger } from '@purser/platform';
import { SetUp } from '../sign-in/commands';
import { credentialDecider } from '../credentials/credential.decider';
import { instanceDecider, setupDone } from './instance.decider';
import { Instance } from './instance';
import { randomSecret } from '../key-material';
import { Passwords } from '../credentials/passwords';
import { SessionIssuer, TokenPair } from '../sessions/sessions';
import { AccessStreams } from '../streams';
import { Roles } from '../permissions/roles';
import { OWNER_ROLE } from '../permissions/catalogue';

export const SETUP_TOKEN_FILE = 'setup-token';
/** A setup that started and never finished (its server died) may be taken over after this long. */
const SETUP_STALE_MS = 60_000;

export interface SetupResult extends TokenPair {
  orgId: string;
  userId: string;
}

/**
 * The one-time setup token: written on first start (while the instance has no administrator) to
 * `<data dir>/setup-token` (mode 0600) and to the log; kept across restarts until setup spends it.
 */
@Injectable()
export class SetupToken implements OnApplicationBootstrap {
  private token: HeldSecret | null = null;

  constructor(
    private readonly instance: Instance,
    @Inject(CONFIG) private readonly config: PurserConfig,
    @Inject(LOGGER) private readonly logger: PurserLogger,
  ) {}

  get path(): string {
    return join(this.config.dataDir, SETUP_TOKEN_FILE);
  }

  async onApplicationBootstrap(): Promise<void> {
    if (await this.instance.isSetUp()) {
      this.spend();
      return;
    }
    let token =
      this.config.access.setupToken ?? (existsSync(this.path) ? readFileSync(this.path, 'utf8').trim() : '');
    if (this.config.access.setupToken === null && !/^pst_[A-Za-z0-9_-]{32,}$/.test(token))
      token = `pst_${randomSecret()}`;
    mkdirSync(this.config.dataDir, { recursive: true });
    writeFileSync(this.path, `${token}\n`, { mode: 0o600 });
    this.token = new HeldSecret(token);
    this.logger.warn(
      { setupToken: token, file: this.path },
      'this instance is not set up: POST /v1/setup with this one-time token creates the first org and its owner (the instance administrator)',
    );
  }

  /** Whether `token` is the setup token (constant time); false once setup is done. */
  matches(token: string): boolean {
    return this.token?.matches(token) ?? false;
  }

  spend(): void {
    this.token = null;
    rmSync(this.path, { force: true });
  }
}

@CommandHandler(SetUp)
export class SetUpHandler implements ICommandHandler<SetUp, SetupResult> {
  constructor(
    private readonly commands: CommandBus,
    private readonly executor: CommandExecutor,
    private readonly token: SetupToken,
    private readonly passwords: Passwords,
    private readonly sessions: SessionIssuer,
    private readonly roles: Roles,
  ) {}

  async execute({ ctx: requestCtx, input }: SetUp): Promise<SetupResult> {
    const ctx = { ...requestCtx, actor: { ...SYSTEM_ACTOR, id: 'setup' } };
    const instance = (await this.executor.current(AccessStreams.instance(), instanceDecider)).state;
    if (instance.completed) throw setupDone();
    if (!this.token.matches(input.token)) {
      throw new UnauthenticatedError('the setup token is wrong (see <data dir>/setup-token or the log)', [
        { field: 'token', problem: 'invalid' },
      ]);
    }
    const { owner } = input;
    const password = this.passwords.assertStrong(owner.password, 'owner.password', [
      owner.username,
      owner.email,
      String(input.org.name ?? ''),
    ]);
    const hash = await this.passwords.hash(password);
    await this.executor.execute(
      AccessStreams.instance(),
      instanceDecider,
      { type: 'StartSetup', now: ctx.now, staleAfterMs: SETUP_STALE_MS },
      ctx,
      { orgId: null, maxRetries: 0 },
    );
    let orgId: string | null = null;
    let userId: string;
    try {
      orgId = await this.createOrg(ctx, input.org);
      userId = await this.createOwner(ctx, orgId, owner);
    } catch (err) {
      // Leave no half-made instance behind: the org goes (it is still empty), and setup may be tried again at once.
      if (orgId) await this.commands.execute(new DeleteOrg(ctx, orgId)).catch(() => undefined);
      await this.executor
        .execute(
          AccessStreams.instance(),
          instanceDecider,
          { type: 'AbortSetup', reason: err instanceof Error ? err.message.slice(0, 200) : 'failed' },
          ctx,
          { orgId: null },
        )
        .catch(() => undefined);
      throw err;
    }
    await this.executor.execute(
      AccessStreams.credential(userId),
      credentialDecider,
      { type: 'SetPassword', userId, orgId, hash, reason: 'setup' },
      ctx,
      { orgId },
    );
    accepted(instanceDecider.decide({ type: 'CompleteSetup', orgId, userId }, instance));
    await this.executor.execute(
      AccessStreams.instance(),
      instanceDecider,
      { type: 'CompleteSetup', orgId, userId },
      ctx,
      { orgId: null },
    );
    // The owner's role is an assignment like any other (the directory's role_id is informational).
    await this.roles.run(ctx, orgId, {
      type: 'AssignRole',
      orgId,
      granter: { all: true, grants: [], owner: true },
      principal: { type: 'user', id: userId },
      roleId: OWNER_ROLE,
      scope: { type: 'org' },
    });
    this.token.spend();
    const origin = input.origin;
    const tokens = await this.sessions.start(ctx, { userId, orgId, instanceAdmin: true }, 'setup', origin);
    return { orgId, userId, ...tokens };
  }

  private async createOrg(ctx: SetUp['ctx'], org: SetUp['input']['org']): Promise<string> {
    const created: DirectoryCommandResult = await this.commands.execute(
      new CreateOrg(ctx, {
        name: org.name as string,
        address: (org.address as string | undefined) ?? null,
        contactInfo: { ...(org.contactInfo as object) },
        baseCurrency: (org.baseCurrency as string | undefined) ?? 'USD',
        timeZone: (org.timeZone as string | undefined) ?? 'UTC',
      }),
    );
    return created.id;
  }

  private async createOwner(
    ctx: SetUp['ctx'],
    orgId: string,
    owner: SetUp['input']['owner'],
  ): Promise<string> {
    const user: DirectoryCommandResult = await this.commands.execute(
      new CreateUser(ctx, orgId, {
        username: owner.username,
        email: owner.email,
        displayName: null,
        primaryTeamId: null,
        teamIds: [],
        roleId: 'owner',
      }),
    );
    return user.id;
  }
}
