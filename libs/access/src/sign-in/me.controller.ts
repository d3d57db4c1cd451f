import { Body, Controller, Delete, Get, HttpCode, Param, Patch, Post, Put } from '@nestjs/common';
import { CommandBus } from '@nestjs/cqrs';
import { ApiTags } from '@nestjs/swagger';
import { CommandContext, CommandExecutor, NotFoundError, Principal } from '@purser/core';
import { DirectoryLookup, UpdateUser } from '@purser/directory';
import { Caller, Ctx, Endpoint, IdPipe } from '@purser/platform';
import { AccessSchemas } from './api.schemas';
import { ChangePassword, EndSession, SetUserPassword, UnlockAccount } from './commands';
import { credentialDecider } from '../credentials/credential.decider';
import { ChangePasswordDto, SetPasswordDto, UpdateMeDto } from './dto';
import { OpenSessions, sessionView } from '../sessions/open-sessions';
import { AccessStreams } from '../streams';
import { userIn } from '../users';

const OrgId = () => Param('orgId', IdPipe);
const UserId = () => Param('userId', IdPipe);
const SessionId = () => Param('sessionId', IdPipe);

/** The signed-in user's own account: profile, password, sessions. */
@ApiTags('me')
@Controller('v1/me')
export class MeController {
  constructor(
    private readonly commands: CommandBus,
    private readonly directory: DirectoryLookup,
    private readonly executor: CommandExecutor,
    private readonly sessions: OpenSessions,
  ) {}

  @Get()
  @Endpoint({
    summary: 'Who am I: the signed-in user',
    requires: 'self',
    ok: { description: 'The user', schema: AccessSchemas.me },
  })
  async me(@Caller() caller: Principal) {
    const user = await this.directory.user(caller.actor.id);
    if (!user) throw new NotFoundError('user not found');
    const cred = (await this.executor.current(AccessStreams.credential(user.userId), credentialDecider))
      .state;
    return {
      userId: user.userId,
      orgId: user.orgId,
      username: user.username,
      email: user.email,
      displayName: user.displayName,
      status: user.status,
      roleId: user.roleId,
      instanceAdmin: caller.instanceAdmin,
      mfaEnabled: cred.mfa.enabled,
      sessionId: caller.sessionId ?? null,
    };
  }

  @Patch()
  @Endpoint({
    summary: 'Change my profile (display name, email)',
    requires: 'self',
    ok: { description: 'Updated', schema: AccessSchemas.me },
    errors: [409, 422],
  })
  async update(@Ctx() ctx: CommandContext, @Caller() caller: Principal, @Body() body: UpdateMeDto) {
    await this.commands.execute(new UpdateUser(ctx, caller.orgId as string, caller.actor.id, { ...body }));
    return this.me(caller);
  }

  @Post('password')
  @HttpCode(200)
  @Endpoint({
    summary: 'Change my password (my other sessions end)',
    requires: 'self',
    ok: { description: 'Changed', schema: AccessSchemas.passwordChanged },
    errors: [422],
  })
  password(@Ctx() ctx: CommandContext, @Caller() caller: Principal, @Body() body: ChangePasswordDto) {
    return this.commands.execute(
      new ChangePassword(ctx, {
        orgId: caller.orgId as string,
        userId: caller.actor.id,
        sessionId: caller.sessionId,
        currentPassword: body.currentPassword,
        newPassword: body.newPassword,
      }),
    );
  }

  @Get('sessions')
  @Endpoint({
    summary: 'Where I am signed in: my open sessions',
    requires: 'self',
    ok: { description: 'Open sessions, newest first', schema: AccessSchemas.sessions },
  })
  async listSessions(@Ctx() ctx: CommandContext, @Caller() caller: Principal) {
    await this.sessions.settled();
    const docs = await this.sessions.list(caller.orgId as string, caller.actor.id, ctx.now);
    return { items: docs.map((d) => sessionView(d, caller.sessionId)) };
  }

  @Delete('sessions/:sessionId')
  @HttpCode(204)
  @Endpoint({
    summary: 'End one of my sessions',
    requires: 'self',
    responses: [{ status: 204, description: 'Ended (or already ended)' }],
    errors: [404],
  })
  async endSession(@Ctx() ctx: CommandContext, @Caller() caller: Principal, @SessionId() sessionId: string) {
    await this.commands.execute(
      new EndSession(ctx, {
        orgId: caller.orgId as string,
        sessionId,
        userId: caller.actor.id,
        reason: 'revoked',
      }),
    );
  }
}

/** Administrators: a user's sessions and lock. */
@ApiTags('users')
@Controller('v1/orgs/:orgId/users/:userId')
export class UserAccessController {
  constructor(
    private readonly commands: CommandBus,
    private readonly directory: DirectoryLookup,
    private readonly sessions: OpenSessions,
  ) {}

  private user(orgId: string, userId: string) {
    return userIn(this.directory, orgId, userId);
  }

  @Get('sessions')
  @Endpoint({
    summary: "A user's open sessions",
    requires: 'session.manage',
    ok: { description: 'Open sessions, newest first', schema: AccessSchemas.sessions },
    errors: [404],
  })
  async list(@Ctx() ctx: CommandContext, @OrgId() orgId: string, @UserId() userId: string) {
    await this.user(orgId, userId);
    await this.sessions.settled();
    return { items: (await this.sessions.list(orgId, userId, ctx.now)).map((d) => sessionView(d)) };
  }

  @Delete('sessions/:sessionId')
  @HttpCode(204)
  @Endpoint({
    summary: "End one of a user's sessions",
    requires: 'session.manage',
    responses: [{ status: 204, description: 'Ended (or already ended)' }],
    errors: [404],
  })
  async end(
    @Ctx() ctx: CommandContext,
    @OrgId() orgId: string,
    @UserId() userId: string,
    @SessionId() sessionId: string,
  ) {
    await this.commands.execute(new EndSession(ctx, { orgId, sessionId, userId, reason: 'revoked' }));
  }

  @Delete('sessions')
  @HttpCode(200)
  @Endpoint({
    summary: "End all of a user's sessions",
    requires: 'session.manage',
    ok: { description: 'How many ended', schema: AccessSchemas.sessionsEnded },
    errors: [404],
  })
  async endAll(@Ctx() ctx: CommandContext, @OrgId() orgId: string, @UserId() userId: string) {
    await this.user(orgId, userId);
    return { sessionsEnded: await this.sessions.endAll(ctx, orgId, userId, 'revoked') };
  }

  @Put('password')
  @HttpCode(200)
  @Endpoint({
    summary: "Set a user's password (a first password, or a new one: the user's sessions end)",
    requires: 'user.manage',
    ok: { description: 'Set', schema: AccessSchemas.sessionsEnded },
    errors: [404, 422],
  })
  setPassword(
    @Ctx() ctx: CommandContext,
    @OrgId() orgId: string,
    @UserId() userId: string,
    @Body() body: SetPasswordDto,
  ) {
    return this.commands.execute(new SetUserPassword(ctx, { orgId, userId, password: body.password }));
  }

  @Post('unlock')
  @HttpCode(200)
  @Endpoint({
    summary: 'Lift the lock that failed sign-ins put on an account',
    requires: 'user.manage',
    ok: { description: 'Unlocked (or was not locked)', schema: AccessSchemas.unlocked },
    errors: [404],
  })
  unlock(@Ctx() ctx: CommandContext, @OrgId() orgId: string, @UserId() userId: string) {
    return this.commands.execute(new UnlockAccount(ctx, { orgId, userId }));
  }
}
