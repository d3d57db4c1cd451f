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
import { ApiHeader, ApiOperation, ApiTags } from '@nestjs/swagger';
import { CommandContext, instantOrThrow } from '@purser/core';
import { Ctx, IdPipe, ReadsProjections, Requires, parseIfMatch, parseIfMatchVersion } from '@purser/platform';
import { ApiResponse } from '@nestjs/swagger';
import { ApiErrors } from '@purser/platform';
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

const IF_MATCH = {
  name: 'If-Match',
  required: false,
  description: 'The revision you read; a stale one is refused with 409',
};
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
  @Requires('org.manage')
  @ApiResponse({ status: 201, description: 'Created', schema: DirectorySchemas.commandResult })
  @ApiErrors(409, 422)
  @ApiOperation({ summary: 'Create an org (names are unique, case-insensitive)' })
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
  @Requires('org.read')
  @ReadsProjections(DIRECTORY_PROJECTION)
  @ApiResponse({ status: 200, description: 'A page of orgs', schema: DirectorySchemas.orgPage })
  @ApiOperation({ summary: 'List orgs by name, with cursor paging' })
  async list(@Query() q: PageQuery) {
    return this.queries.orgs(q.limit ?? 50, q.cursor);
  }

  @Get(':orgId')
  @Requires('org.read')
  @ReadsProjections(DIRECTORY_PROJECTION)
  @ApiResponse({ status: 200, description: 'The org', schema: DirectorySchemas.org })
  @ApiErrors(404)
  @ApiOperation({ summary: 'Read an org, now or as of a past instant' })
  async get(@Param('orgId', IdPipe) orgId: string, @Query() q: ReadQuery) {
    if (q.asOf) return this.queries.orgAsOf(orgId, asInstant(q.asOf));
    return this.queries.org(orgId);
  }

  @Patch(':orgId')
  @Requires('org.manage')
  @ApiResponse({ status: 200, description: 'Updated (or unchanged)', schema: DirectorySchemas.commandResult })
  @ApiErrors(404, 409, 422)
  @ApiHeader(IF_MATCH)
  @ApiOperation({ summary: 'Update an org' })
  update(
    @Ctx() ctx: CommandContext,
    @Param('orgId', IdPipe) orgId: string,
    @Body() body: UpdateOrgDto,
    @Headers('if-match') ifMatch?: string,
  ) {
    return this.commands.execute(new UpdateOrg(ctx, orgId, { ...body }, parseIfMatch(ifMatch)));
  }

  @Delete(':orgId')
  @Requires('org.manage')
  @ApiResponse({ status: 200, description: 'Deleted', schema: DirectorySchemas.commandResult })
  @ApiErrors(404, 409, 422)
  @ApiHeader(IF_MATCH)
  @ApiOperation({ summary: 'Delete an empty org (its history is kept)' })
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
  @Requires('team.manage')
  @ApiResponse({ status: 201, description: 'Created', schema: DirectorySchemas.commandResult })
  @ApiErrors(404, 409, 422)
  @ApiOperation({ summary: 'Create a team, top-level or under a parent team' })
  create(@Ctx() ctx: CommandContext, @Param('orgId', IdPipe) orgId: string, @Body() body: CreateTeamDto) {
    return this.commands.execute(
      new CreateTeam(ctx, orgId, { name: body.name, parentTeamId: body.parentTeamId ?? null }),
    );
  }

  @Get()
  @Requires('team.read')
  @ReadsProjections(DIRECTORY_PROJECTION)
  @ApiResponse({
    status: 200,
    description: 'Flat by name, or a tree (children)',
    schema: DirectorySchemas.teamList,
  })
  @ApiErrors(404)
  @ApiOperation({ summary: "List an org's teams, flat (by name) or as a tree" })
  async list(@Param('orgId', IdPipe) orgId: string, @Query() q: TeamsQuery) {
    await this.queries.org(orgId);
    if (q.view === 'tree') return { items: await this.queries.tree(orgId) };
    return { items: (await this.queries.teams(orgId)).map(teamView) };
  }

  @Get(':teamId')
  @Requires('team.read')
  @ReadsProjections(DIRECTORY_PROJECTION)
  @ApiResponse({ status: 200, description: 'The team', schema: DirectorySchemas.team })
  @ApiErrors(404)
  @ApiOperation({ summary: 'Read a team, now or as of a past instant' })
  async get(
    @Param('orgId', IdPipe) orgId: string,
    @Param('teamId', IdPipe) teamId: string,
    @Query() q: ReadQuery,
  ) {
    if (q.asOf) return this.queries.teamAsOf(orgId, teamId, asInstant(q.asOf));
    return this.queries.team(orgId, teamId);
  }

  @Get(':teamId/ancestors')
  @Requires('team.read')
  @ReadsProjections(DIRECTORY_PROJECTION)
  @ApiResponse({ status: 200, description: 'From the parent up', schema: DirectorySchemas.teamList })
  @ApiErrors(404)
  @ApiOperation({ summary: 'Ancestors from the parent up to the top-level team' })
  async ancestors(
    @Param('orgId', IdPipe) orgId: string,
    @Param('teamId', IdPipe) teamId: string,
    @Query() _q: PositionQuery,
  ) {
    return { items: await this.queries.ancestors(orgId, teamId) };
  }

  @Get(':teamId/descendants')
  @Requires('team.read')
  @ReadsProjections(DIRECTORY_PROJECTION)
  @ApiResponse({ status: 200, description: 'Breadth first', schema: DirectorySchemas.teamList })
  @ApiErrors(404)
  @ApiOperation({ summary: 'All sub-teams at any depth, breadth first' })
  async descendants(
    @Param('orgId', IdPipe) orgId: string,
    @Param('teamId', IdPipe) teamId: string,
    @Query() _q: PositionQuery,
  ) {
    return { items: await this.queries.descendants(orgId, teamId) };
  }

  @Patch(':teamId')
  @Requires('team.manage')
  @ApiResponse({ status: 200, description: 'Renamed', schema: DirectorySchemas.commandResult })
  @ApiErrors(404, 409, 422)
  @ApiHeader(IF_MATCH)
  @ApiOperation({ summary: 'Rename a team' })
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
  @Requires('team.manage')
  @ApiResponse({ status: 200, description: 'Moved', schema: DirectorySchemas.commandResult })
  @ApiErrors(404, 409, 422)
  @HttpCode(200)
  @ApiHeader(IF_MATCH)
  @ApiOperation({
    summary: 'Move a team under another team of the same org (or to the top); cycles are refused',
  })
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
  @Requires('team.manage')
  @ApiResponse({ status: 200, description: 'Deleted', schema: DirectorySchemas.commandResult })
  @ApiErrors(404, 409, 422)
  @ApiHeader(IF_MATCH)
  @ApiOperation({ summary: 'Delete a team with no members and no sub-teams' })
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
  @Requires('user.manage')
  @ApiResponse({ status: 201, description: 'Created', schema: DirectorySchemas.commandResult })
  @ApiErrors(404, 409, 422)
  @ApiOperation({ summary: 'Create a user (usernames and emails are unique, case-insensitive)' })
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
  @Requires('user.read')
  @ReadsProjections(DIRECTORY_PROJECTION)
  @ApiResponse({ status: 200, description: 'A page of users', schema: DirectorySchemas.userPage })
  @ApiErrors(404)
  @ApiOperation({ summary: 'List users: by team (with sub-teams), status, text; cursor paging by username' })
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
  @Requires('user.read')
  @ReadsProjections(DIRECTORY_PROJECTION)
  @ApiResponse({ status: 200, description: 'The user', schema: DirectorySchemas.user })
  @ApiErrors(404)
  @ApiOperation({ summary: 'Read a user, now or as of a past instant' })
  async get(
    @Param('orgId', IdPipe) orgId: string,
    @Param('userId', IdPipe) userId: string,
    @Query() q: ReadQuery,
  ) {
    if (q.asOf) return this.queries.userAsOf(orgId, userId, asInstant(q.asOf));
    return this.queries.user(orgId, userId);
  }

  @Patch(':userId')
  @Requires('user.manage')
  @ApiResponse({ status: 200, description: 'Updated', schema: DirectorySchemas.commandResult })
  @ApiErrors(404, 409, 422)
  @ApiHeader(IF_MATCH)
  @ApiOperation({ summary: 'Update a user' })
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
  @Requires('user.manage')
  @ApiResponse({
    status: 200,
    description: 'Deactivated (or already)',
    schema: DirectorySchemas.commandResult,
  })
  @ApiErrors(404, 409, 422)
  @HttpCode(200)
  @ApiHeader(IF_MATCH)
  @ApiOperation({ summary: 'Deactivate a user (idempotent)' })
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
  @Requires('user.manage')
  @ApiResponse({
    status: 200,
    description: 'Reactivated (or already)',
    schema: DirectorySchemas.commandResult,
  })
  @ApiErrors(404, 409, 422)
  @HttpCode(200)
  @ApiHeader(IF_MATCH)
  @ApiOperation({ summary: 'Reactivate a user (idempotent)' })
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
  @Requires('user.manage')
  @ApiResponse({ status: 200, description: 'Deleted', schema: DirectorySchemas.commandResult })
  @ApiErrors(404, 409, 422)
  @ApiHeader(IF_MATCH)
  @ApiOperation({ summary: 'Delete a user (the history keeps them)' })
  delete(
    @Ctx() ctx: CommandContext,
    @Param('orgId', IdPipe) orgId: string,
    @Param('userId', IdPipe) userId: string,
    @Headers('if-match') ifMatch?: string,
  ) {
    return this.commands.execute(new DeleteUser(ctx, orgId, userId, parseIfMatch(ifMatch)));
  }

  @Put(':userId/teams/:teamId')
  @Requires('user.manage')
  @ApiResponse({ status: 200, description: 'A member (or already)', schema: DirectorySchemas.commandResult })
  @ApiErrors(404, 409, 422)
  @ApiOperation({ summary: 'Add the user to a team (idempotent)' })
  join(
    @Ctx() ctx: CommandContext,
    @Param('orgId', IdPipe) orgId: string,
    @Param('userId', IdPipe) userId: string,
    @Param('teamId', IdPipe) teamId: string,
  ) {
    return this.commands.execute(new ChangeMembership(ctx, orgId, userId, teamId, true));
  }

  @Delete(':userId/teams/:teamId')
  @Requires('user.manage')
  @ApiResponse({
    status: 200,
    description: 'Not a member (or already not)',
    schema: DirectorySchemas.commandResult,
  })
  @ApiErrors(404, 409, 422)
  @ApiOperation({ summary: 'Remove the user from a team (not their primary team)' })
  leave(
    @Ctx() ctx: CommandContext,
    @Param('orgId', IdPipe) orgId: string,
    @Param('userId', IdPipe) userId: string,
    @Param('teamId', IdPipe) teamId: string,
  ) {
    return this.commands.execute(new ChangeMembership(ctx, orgId, userId, teamId, false));
  }
}
