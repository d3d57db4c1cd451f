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

type Requires = Parameters<typeof Endpoint>[0]['requires'];

/** A command on an org, team or user that exists: the command result; 404 unknown, 409 clash or stale If-Match, 422 refused. */
const ChangeEndpoint = (summary: string, requires: Requires, description: string, ifMatch = true) =>
  Endpoint({
    summary,
    requires,
    ok: { description, schema: DirectorySchemas.commandResult },
    errors: [404, 409, 422],
    ...(ifMatch ? { ifMatch: true } : {}),
  });

/** A query answered from the directory projection. */
const ReadEndpoint = (
  summary: string,
  requires: Requires,
  ok: { description: string; schema: object },
  errors?: number[],
) => Endpoint({ summary, requires, reads: [DIRECTORY_PROJECTION], ok, ...(errors ? { errors } : {}) });

/** The path's ids, checked like every id. */
const OrgId = () => Param('orgId', IdPipe);
const TeamId = () => Param('teamId', IdPipe);
const UserId = () => Param('userId', IdPipe);
/** The If-Match header as sent (the handler parses it, after the body is validated). */
const IfMatch = () => Headers('if-match');

@ApiTags('orgs')
@Controller('v1/orgs')
export class OrgsController {
  constructor(
    private readonly commands: CommandBus,
    private readonly queries: DirectoryQueries,
  ) {}

  @Post()
  @Endpoint({
    summary: 'Create an org (names are unique, case-insensitive; the instance administrator only)',
    requires: 'org.create',
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
  @ReadEndpoint(
    'List orgs by name, with cursor paging (a caller bound to an org sees only its own)',
    'org.read',
    {
      description: 'A page of orgs',
      schema: DirectorySchemas.orgPage,
    },
  )
  async list(@Ctx() ctx: CommandContext, @Query() q: PageQuery) {
    return this.queries.orgs(q.limit ?? 50, q.cursor, ctx.confinedTo);
  }

  @Get(':orgId')
  @ReadEndpoint(
    'Read an org, now or as of a past instant',
    'org.read',
    { description: 'The org', schema: DirectorySchemas.org },
    [404],
  )
  async get(@OrgId() orgId: string, @Query() q: ReadQuery) {
    if (q.asOf) return this.queries.orgAsOf(orgId, asInstant(q.asOf));
    return this.queries.org(orgId);
  }

  @Patch(':orgId')
  @ChangeEndpoint('Update an org', 'org.manage', 'Updated (or unchanged)')
  update(
    @Ctx() ctx: CommandContext,
    @OrgId() orgId: string,
    @Body() body: UpdateOrgDto,
    @IfMatch() ifMatch?: string,
  ) {
    return this.commands.execute(new UpdateOrg(ctx, orgId, { ...body }, parseIfMatch(ifMatch)));
  }

  @Delete(':orgId')
  @ChangeEndpoint('Delete an empty org (its history is kept)', 'org.manage', 'Deleted')
  delete(@Ctx() ctx: CommandContext, @OrgId() orgId: string, @IfMatch() ifMatch?: string) {
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
  create(@Ctx() ctx: CommandContext, @OrgId() orgId: string, @Body() body: CreateTeamDto) {
    return this.commands.execute(
      new CreateTeam(ctx, orgId, { name: body.name, parentTeamId: body.parentTeamId ?? null }),
    );
  }

  @Get()
  @ReadEndpoint(
    "List an org's teams, flat (by name) or as a tree",
    'team.read',
    { description: 'Flat by name, or a tree (children)', schema: DirectorySchemas.teamList },
    [404],
  )
  async list(@OrgId() orgId: string, @Query() q: TeamsQuery) {
    await this.queries.org(orgId);
    if (q.view === 'tree') return { items: await this.queries.tree(orgId) };
    return { items: (await this.queries.teams(orgId)).map(teamView) };
  }

  @Get(':teamId')
  @ReadEndpoint(
    'Read a team, now or as of a past instant',
    'team.read',
    { description: 'The team', schema: DirectorySchemas.team },
    [404],
  )
  async get(@OrgId() orgId: string, @TeamId() teamId: string, @Query() q: ReadQuery) {
    if (q.asOf) return this.queries.teamAsOf(orgId, teamId, asInstant(q.asOf));
    return this.queries.team(orgId, teamId);
  }

  @Get(':teamId/ancestors')
  @ReadEndpoint(
    'Ancestors from the parent up to the top-level team',
    'team.read',
    { description: 'From the parent up', schema: DirectorySchemas.teamList },
    [404],
  )
  async ancestors(@OrgId() orgId: string, @TeamId() teamId: string, @Query() _q: PositionQuery) {
    return { items: await this.queries.ancestors(orgId, teamId) };
  }

  @Get(':teamId/descendants')
  @ReadEndpoint(
    'All sub-teams at any depth, breadth first',
    'team.read',
    { description: 'Breadth first', schema: DirectorySchemas.teamList },
    [404],
  )
  async descendants(@OrgId() orgId: string, @TeamId() teamId: string, @Query() _q: PositionQuery) {
    return { items: await this.queries.descendants(orgId, teamId) };
  }

  @Patch(':teamId')
  @ChangeEndpoint('Rename a team', 'team.manage', 'Renamed')
  rename(
    @Ctx() ctx: CommandContext,
    @OrgId() orgId: string,
    @TeamId() teamId: string,
    @Body() body: RenameTeamDto,
    @IfMatch() ifMatch?: string,
  ) {
    return this.commands.execute(new RenameTeam(ctx, orgId, teamId, body.name, parseIfMatchVersion(ifMatch)));
  }

  @Post(':teamId/move')
  @ChangeEndpoint(
    'Move a team under another team of the same org (or to the top); cycles are refused',
    'team.manage',
    'Moved',
  )
  @HttpCode(200)
  move(
    @Ctx() ctx: CommandContext,
    @OrgId() orgId: string,
    @TeamId() teamId: string,
    @Body() body: MoveTeamDto,
    @IfMatch() ifMatch?: string,
  ) {
    return this.commands.execute(
      new MoveTeam(ctx, orgId, teamId, body.parentTeamId, parseIfMatchVersion(ifMatch)),
    );
  }

  @Delete(':teamId')
  @ChangeEndpoint('Delete a team with no members and no sub-teams', 'team.manage', 'Deleted')
  delete(
    @Ctx() ctx: CommandContext,
    @OrgId() orgId: string,
    @TeamId() teamId: string,
    @IfMatch() ifMatch?: string,
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
  create(@Ctx() ctx: CommandContext, @OrgId() orgId: string, @Body() body: CreateUserDto) {
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
  @ReadEndpoint(
    'List users: by team (with sub-teams), status, text; cursor paging by username',
    'user.read',
    { description: 'A page of users', schema: DirectorySchemas.userPage },
    [404],
  )
  async list(@OrgId() orgId: string, @Query() q: ListUsersQuery) {
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
  @ReadEndpoint(
    'Read a user, now or as of a past instant',
    'user.read',
    { description: 'The user', schema: DirectorySchemas.user },
    [404],
  )
  async get(@OrgId() orgId: string, @UserId() userId: string, @Query() q: ReadQuery) {
    if (q.asOf) return this.queries.userAsOf(orgId, userId, asInstant(q.asOf));
    return this.queries.user(orgId, userId);
  }

  @Patch(':userId')
  @ChangeEndpoint('Update a user', 'user.manage', 'Updated')
  update(
    @Ctx() ctx: CommandContext,
    @OrgId() orgId: string,
    @UserId() userId: string,
    @Body() body: UpdateUserDto,
    @IfMatch() ifMatch?: string,
  ) {
    return this.commands.execute(new UpdateUser(ctx, orgId, userId, { ...body }, parseIfMatch(ifMatch)));
  }

  @Post(':userId/deactivate')
  @ChangeEndpoint('Deactivate a user (idempotent)', 'user.manage', 'Deactivated (or already)')
  @HttpCode(200)
  deactivate(
    @Ctx() ctx: CommandContext,
    @OrgId() orgId: string,
    @UserId() userId: string,
    @Body() body: DeactivateUserDto,
    @IfMatch() ifMatch?: string,
  ) {
    return this.commands.execute(
      new SetUserStatus(ctx, orgId, userId, 'inactive', body.reason ?? null, parseIfMatch(ifMatch)),
    );
  }

  @Post(':userId/reactivate')
  @ChangeEndpoint('Reactivate a user (idempotent)', 'user.manage', 'Reactivated (or already)')
  @HttpCode(200)
  reactivate(
    @Ctx() ctx: CommandContext,
    @OrgId() orgId: string,
    @UserId() userId: string,
    @IfMatch() ifMatch?: string,
  ) {
    return this.commands.execute(
      new SetUserStatus(ctx, orgId, userId, 'active', null, parseIfMatch(ifMatch)),
    );
  }

  @Delete(':userId')
  @ChangeEndpoint('Delete a user (the history keeps them)', 'user.manage', 'Deleted')
  delete(
    @Ctx() ctx: CommandContext,
    @OrgId() orgId: string,
    @UserId() userId: string,
    @IfMatch() ifMatch?: string,
  ) {
    return this.commands.execute(new DeleteUser(ctx, orgId, userId, parseIfMatch(ifMatch)));
  }

  @Put(':userId/teams/:teamId')
  @ChangeEndpoint('Add the user to a team (idempotent)', 'user.manage', 'A member (or already)', false)
  join(
    @Ctx() ctx: CommandContext,
    @OrgId() orgId: string,
    @UserId() userId: string,
    @TeamId() teamId: string,
  ) {
    return this.commands.execute(new ChangeMembership(ctx, orgId, userId, teamId, true));
  }

  @Delete(':userId/teams/:teamId')
  @ChangeEndpoint(
    'Remove the user from a team (not their primary team)',
    'user.manage',
    'Not a member (or already not)',
    false,
  )
  leave(
    @Ctx() ctx: CommandContext,
    @OrgId() orgId: string,
    @UserId() userId: string,
    @TeamId() teamId: string,
  ) {
    return this.commands.execute(new ChangeMembership(ctx, orgId, userId, teamId, false));
  }
}
