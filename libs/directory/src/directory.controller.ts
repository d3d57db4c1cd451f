import {
  Body,
  Controller,
  Delete,
  Get,
  Headers,
  HttpCode,
  Param,
  Patch,
  Post,
  Put,
  Query,
} from '@nestjs/common';
import { CommandBus } from '@nestjs/cqrs';
import { ApiTags } from '@nestjs/swagger';
import { CommandContext, instantOrThrow } from '@purser/core';
import { Ctx, Endpoint, IdPipe, parseIfMatch, parseIfMatchVersion } from '@purser/platform';
import { DirectorySchemas } from './api.schemas';
import {
  ChangeMembership,
  CreateOrg,
  CreateTeam,
  CreateUser,
  DeleteOrg,
  DeleteTeam,
  DeleteUser,
  DirectoryCommandResult,
  MoveTeam,
  RenameTeam,
  SetUserStatus,
  UpdateOrg,
  UpdateUser,
} from './commands';
import {
  CreateOrgDto,
  CreateTeamDto,
  CreateUserDto,
  DeactivateUserDto,
  ListUsersQuery,
  MoveTeamDto,
  PageQuery,
  PositionQuery,
  ReadQuery,
  RenameTeamDto,
  TeamsQuery,
  UpdateOrgDto,
  UpdateUserDto,
} from './dto';
import { DirectoryQueries, teamView } from './queries';
import { DIRECTORY_PROJECTION } from './projection';

/** asOf: a strict instant (2026-02-30 or sub-millisecond digits are refused, not rolled over or cut). */
const asInstant = (asOf: string) => instantOrThrow(asOf, 'asOf');

@ApiTags('orgs')
@Controller('v1/orgs')
export class OrgsController {
  constructor(
    private readonly commands: CommandBus,
    private readonly queries: DirectoryQueries,
  ) {}

  @Post()
  @Endpoint({
    summary: 'Create an org (names are unique, case-insensitive)',
    requires: 'org.manage',
    created: { description: 'Created', schema: DirectorySchemas.commandResult },
    errors: [409, 422],
  })
  create(@Ctx() ctx: CommandContext, @Body() body: CreateOrgDto): Promise<DirectoryCommandResult> {
    return this.commands.execute(
      new CreateOrg(ctx, {
        name: body.name,
        address: body.address ?? null,
        contactInfo: { ...body.contactInfo },
        baseCurrency: body.baseCurrency ?? 'USD',
        timeZone: body.timeZone ?? 'UTC',
      }),
    );
  }

  @Get()
  @Endpoint({
    summary: 'List orgs by name, with cursor paging',
    requires: 'org.read',
    reads: [DIRECTORY_PROJECTION],
    ok: { description: 'A page of orgs', schema: DirectorySchemas.orgPage },
  })
  async list(@Query() q: PageQuery) {
    return this.queries.orgs(q.limit ?? 50, q.cursor);
  }

  @Get(':orgId')
  @Endpoint({
    summary: 'Read an org, now or as of a past instant',
    requires: 'org.read',
    reads: [DIRECTORY_PROJECTION],
    ok: { description: 'The org', schema: DirectorySchemas.org },
    errors: [404],
  })
  async get(@Param('orgId', IdPipe) orgId: string, @Query() q: ReadQuery) {
    if (q.asOf) return this.queries.orgAsOf(orgId, asInstant(q.asOf));
    return this.queries.org(orgId);
  }

  @Patch(':orgId')
  @Endpoint({
    summary: 'Update an org',
    requires: 'org.manage',
    ok: { description: 'Updated (or unchanged)', schema: DirectorySchemas.commandResult },
    errors: [404, 409, 422],
    ifMatch: true,
  })
  update(
    @Ctx() ctx: CommandContext,
    @Param('orgId', IdPipe) orgId: string,
    @Body() body: UpdateOrgDto,
    @Headers('if-match') ifMatch?: string,
  ) {
    return this.commands.execute(new UpdateOrg(ctx, orgId, { ...body }, parseIfMatch(ifMatch)));
  }

  @Delete(':orgId')
  @Endpoint({
    summary: 'Delete an empty org (its history is kept)',
    requires: 'org.manage',
    ok: { description: 'Deleted', schema: DirectorySchemas.commandResult },
    errors: [404, 409, 422],
    ifMatch: true,
  })
  delete(
    @Ctx() ctx: CommandContext,
    @Param('orgId', IdPipe) orgId: string,
    @Headers('if-match') ifMatch?: string,
  ) {
    return this.commands.execute(new DeleteOrg(ctx, orgId, parseIfMatch(ifMatch)));
  }
}

@ApiTags('teams')
@Controller('v1/orgs/:orgId/teams')
export class TeamsController {
  constructor(
    private readonly commands: CommandBus,
    private readonly queries: DirectoryQueries,
  ) {}

  @Post()
  @Endpoint({
    summary: 'Create a team, top-level or under a parent team',
    requires: 'team.manage',
    created: { description: 'Created', schema: DirectorySchemas.commandResult },
    errors: [404, 409, 422],
  })
  create(@Ctx() ctx: CommandContext, @Param('orgId', IdPipe) orgId: string, @Body() body: CreateTeamDto) {
    return this.commands.execute(
      new CreateTeam(ctx, orgId, { name: body.name, parentTeamId: body.parentTeamId ?? null }),
    );
  }

  @Get()
  @Endpoint({
    summary: "List an org's teams, flat (by name) or as a tree",
    requires: 'team.read',
    reads: [DIRECTORY_PROJECTION],
    ok: { description: 'Flat by name, or a tree (children)', schema: DirectorySchemas.teamList },
    errors: [404],
  })
  async list(@Param('orgId', IdPipe) orgId: string, @Query() q: TeamsQuery) {
    await this.queries.org(orgId);
    if (q.view === 'tree') return { items: await this.queries.tree(orgId) };
    return { items: (await this.queries.teams(orgId)).map(teamView) };
  }

  @Get(':teamId')
  @Endpoint({
    summary: 'Read a team, now or as of a past instant',
    requires: 'team.read',
    reads: [DIRECTORY_PROJECTION],
    ok: { description: 'The team', schema: DirectorySchemas.team },
    errors: [404],
  })
  async get(
    @Param('orgId', IdPipe) orgId: string,
    @Param('teamId', IdPipe) teamId: string,
    @Query() q: ReadQuery,
  ) {
    if (q.asOf) return this.queries.teamAsOf(orgId, teamId, asInstant(q.asOf));
    return this.queries.team(orgId, teamId);
  }

  @Get(':teamId/ancestors')
  @Endpoint({
    summary: 'Ancestors from the parent up to the top-level team',
    requires: 'team.read',
    reads: [DIRECTORY_PROJECTION],
    ok: { description: 'From the parent up', schema: DirectorySchemas.teamList },
    errors: [404],
  })
  async ancestors(
    @Param('orgId', IdPipe) orgId: string,
    @Param('teamId', IdPipe) teamId: string,
    @Query() _q: PositionQuery,
  ) {
    return { items: await this.queries.ancestors(orgId, teamId) };
  }

  @Get(':teamId/descendants')
  @Endpoint({
    summary: 'All sub-teams at any depth, breadth first',
    requires: 'team.read',
    reads: [DIRECTORY_PROJECTION],
    ok: { description: 'Breadth first', schema: DirectorySchemas.teamList },
    errors: [404],
  })
  async descendants(
    @Param('orgId', IdPipe) orgId: string,
    @Param('teamId', IdPipe) teamId: string,
    @Query() _q: PositionQuery,
  ) {
    return { items: await this.queries.descendants(orgId, teamId) };
  }

  @Patch(':teamId')
  @Endpoint({
    summary: 'Rename a team',
    requires: 'team.manage',
    ok: { description: 'Renamed', schema: DirectorySchemas.commandResult },
    errors: [404, 409, 422],
    ifMatch: true,
  })
  rename(
    @Ctx() ctx: CommandContext,
    @Param('orgId', IdPipe) orgId: string,
    @Param('teamId', IdPipe) teamId: string,
    @Body() body: RenameTeamDto,
    @Headers('if-match') ifMatch?: string,
  ) {
    return this.commands.execute(new RenameTeam(ctx, orgId, teamId, body.name, parseIfMatchVersion(ifMatch)));
  }

  @Post(':teamId/move')
  @Endpoint({
    summary: 'Move a team under another team of the same org (or to the top); cycles are refused',
    requires: 'team.manage',
    ok: { description: 'Moved', schema: DirectorySchemas.commandResult },
    errors: [404, 409, 422],
    ifMatch: true,
  })
  @HttpCode(200)
  move(
    @Ctx() ctx: CommandContext,
    @Param('orgId', IdPipe) orgId: string,
    @Param('teamId', IdPipe) teamId: string,
    @Body() body: MoveTeamDto,
    @Headers('if-match') ifMatch?: string,
  ) {
    return this.commands.execute(
      new MoveTeam(ctx, orgId, teamId, body.parentTeamId, parseIfMatchVersion(ifMatch)),
    );
  }

  @Delete(':teamId')
  @Endpoint({
    summary: 'Delete a team with no members and no sub-teams',
    requires: 'team.manage',
    ok: { description: 'Deleted', schema: DirectorySchemas.commandResult },
    errors: [404, 409, 422],
    ifMatch: true,
  })
  delete(
    @Ctx() ctx: CommandContext,
    @Param('orgId', IdPipe) orgId: string,
    @Param('teamId', IdPipe) teamId: string,
    @Headers('if-match') ifMatch?: string,
  ) {
    return this.commands.execute(new DeleteTeam(ctx, orgId, teamId, parseIfMatchVersion(ifMatch)));
  }
}

@ApiTags('users')
@Controller('v1/orgs/:orgId/users')
export class UsersController {
  constructor(
    private readonly commands: CommandBus,
    private readonly queries: DirectoryQueries,
  ) {}

  @Post()
  @Endpoint({
    summary: 'Create a user (usernames and emails are unique, case-insensitive)',
    requires: 'user.manage',
    created: { description: 'Created', schema: DirectorySchemas.commandResult },
    errors: [404, 409, 422],
  })
  create(@Ctx() ctx: CommandContext, @Param('orgId', IdPipe) orgId: string, @Body() body: CreateUserDto) {
    return this.commands.execute(
      new CreateUser(ctx, orgId, {
        username: body.username,
        email: body.email,
        displayName: body.displayName ?? null,
        primaryTeamId: body.primaryTeamId ?? null,
        teamIds: body.teamIds ?? [],
        roleId: body.roleId ?? null,
      }),
    );
  }

  @Get()
  @Endpoint({
    summary: 'List users: by team (with sub-teams), status, text; cursor paging by username',
    requires: 'user.read',
    reads: [DIRECTORY_PROJECTION],
    ok: { description: 'A page of users', schema: DirectorySchemas.userPage },
    errors: [404],
  })
  async list(@Param('orgId', IdPipe) orgId: string, @Query() q: ListUsersQuery) {
    await this.queries.org(orgId);
    return this.queries.users(orgId, {
      teamId: q.teamId,
      includeSubTeams: q.includeSubTeams,
      status: q.status,
      q: q.q,
      limit: q.limit ?? 50,
      cursor: q.cursor,
    });
  }

  @Get(':userId')
  @Endpoint({
    summary: 'Read a user, now or as of a past instant',
    requires: 'user.read',
    reads: [DIRECTORY_PROJECTION],
    ok: { description: 'The user', schema: DirectorySchemas.user },
    errors: [404],
  })
  async get(
    @Param('orgId', IdPipe) orgId: string,
    @Param('userId', IdPipe) userId: string,
    @Query() q: ReadQuery,
  ) {
    if (q.asOf) return this.queries.userAsOf(orgId, userId, asInstant(q.asOf));
    return this.queries.user(orgId, userId);
  }

  @Patch(':userId')
  @Endpoint({
    summary: 'Update a user',
    requires: 'user.manage',
    ok: { description: 'Updated', schema: DirectorySchemas.commandResult },
    errors: [404, 409, 422],
    ifMatch: true,
  })
  update(
    @Ctx() ctx: CommandContext,
    @Param('orgId', IdPipe) orgId: string,
    @Param('userId', IdPipe) userId: string,
    @Body() body: UpdateUserDto,
    @Headers('if-match') ifMatch?: string,
  ) {
    return this.commands.execute(new UpdateUser(ctx, orgId, userId, { ...body }, parseIfMatch(ifMatch)));
  }

  @Post(':userId/deactivate')
  @Endpoint({
    summary: 'Deactivate a user (idempotent)',
    requires: 'user.manage',
    ok: { description: 'Deactivated (or already)', schema: DirectorySchemas.commandResult },
    errors: [404, 409, 422],
    ifMatch: true,
  })
  @HttpCode(200)
  deactivate(
    @Ctx() ctx: CommandContext,
    @Param('orgId', IdPipe) orgId: string,
    @Param('userId', IdPipe) userId: string,
    @Body() body: DeactivateUserDto,
    @Headers('if-match') ifMatch?: string,
  ) {
    return this.commands.execute(
      new SetUserStatus(ctx, orgId, userId, 'inactive', body.reason ?? null, parseIfMatch(ifMatch)),
    );
  }

  @Post(':userId/reactivate')
  @Endpoint({
    summary: 'Reactivate a user (idempotent)',
    requires: 'user.manage',
    ok: { description: 'Reactivated (or already)', schema: DirectorySchemas.commandResult },
    errors: [404, 409, 422],
    ifMatch: true,
  })
  @HttpCode(200)
  reactivate(
    @Ctx() ctx: CommandContext,
    @Param('orgId', IdPipe) orgId: string,
    @Param('userId', IdPipe) userId: string,
    @Headers('if-match') ifMatch?: string,
  ) {
    return this.commands.execute(
      new SetUserStatus(ctx, orgId, userId, 'active', null, parseIfMatch(ifMatch)),
    );
  }

  @Delete(':userId')
  @Endpoint({
    summary: 'Delete a user (the history keeps them)',
    requires: 'user.manage',
    ok: { description: 'Deleted', schema: DirectorySchemas.commandResult },
    errors: [404, 409, 422],
    ifMatch: true,
  })
  delete(
    @Ctx() ctx: CommandContext,
    @Param('orgId', IdPipe) orgId: string,
    @Param('userId', IdPipe) userId: string,
    @Headers('if-match') ifMatch?: string,
  ) {
    return this.commands.execute(new DeleteUser(ctx, orgId, userId, parseIfMatch(ifMatch)));
  }

  @Put(':userId/teams/:teamId')
  @Endpoint({
    summary: 'Add the user to a team (idempotent)',
    requires: 'user.manage',
    ok: { description: 'A member (or already)', schema: DirectorySchemas.commandResult },
    errors: [404, 409, 422],
  })
  join(
    @Ctx() ctx: CommandContext,
    @Param('orgId', IdPipe) orgId: string,
    @Param('userId', IdPipe) userId: string,
    @Param('teamId', IdPipe) teamId: string,
  ) {
    return this.commands.execute(new ChangeMembership(ctx, orgId, userId, teamId, true));
  }

  @Delete(':userId/teams/:teamId')
  @Endpoint({
    summary: 'Remove the user from a team (not their primary team)',
    requires: 'user.manage',
    ok: { description: 'Not a member (or already not)', schema: DirectorySchemas.commandResult },
    errors: [404, 409, 422],
  })
  leave(
    @Ctx() ctx: CommandContext,
    @Param('orgId', IdPipe) orgId: string,
    @Param('userId', IdPipe) userId: string,
    @Param('teamId', IdPipe) teamId: string,
  ) {
    return this.commands.execute(new ChangeMembership(ctx, orgId, userId, teamId, false));
  }
}
