import { Injectable } from '@nestjs/common';
import { CommandHandler, ICommandHandler } from '@nestjs/cqrs';
import { randomUUID } from 'node:crypto';
import { CommandExecutor, CommandResult, DomainEvent, accepted } from '@purser/core';
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
import { Claims } from './claims';
import { assertLive, orgDecider } from './org.decider';
import { crossOrgRefusal, teamTreeDecider } from './teams.decider';
import { assertUser, userDecider } from './user.decider';
import { Streams, normalizeUnique } from './streams';
import { DirectoryQueries } from './queries';

function result(id: string, r: CommandResult<DomainEvent>, revision?: string): DirectoryCommandResult {
  return {
    id,
    position: r.position.toString(),
    revision: revision ?? r.revision.toString(),
    events: r.events.map((e) => e.type),
  };
}

/** Shared reads the handlers need: current org, its live teams, and whether a claim's holder still uses a value. */
@Injectable()
abstract class DirectoryHandler {
  constructor(
    protected readonly executor: CommandExecutor,
    protected readonly claims: Claims,
    protected readonly queries: DirectoryQueries,
  ) {}

  protected async liveOrg(orgId: string) {
    const { state } = await this.executor.current(Streams.org(orgId), orgDecider);
    assertLive(state, orgId);
    return state;
  }

  protected async tree(orgId: string) {
    return (await this.executor.current(Streams.teams(orgId), teamTreeDecider)).state;
  }

  protected async liveTeamIds(orgId: string): Promise<Set<string>> {
    const tree = await this.tree(orgId);
    return new Set([...tree.teams.values()].filter((t) => !t.deleted).map((t) => t.teamId));
  }

  protected orgUsesName = (name: string) => async (orgId: string) => {
    const { state } = await this.executor.current(Streams.org(orgId), orgDecider);
    return state.exists && !state.deleted && normalizeUnique(state.name) === normalizeUnique(name);
  };

  protected userUses = (field: 'username' | 'email', value: string) => async (userId: string) => {
    const { state } = await this.executor.current(Streams.user(userId), userDecider);
    return state.exists && !state.deleted && normalizeUnique(state[field]) === normalizeUnique(value);
  };

  /** A parent that lives in another org gets a clear 422 rather than a bare 404. */
  protected async refuseForeignParent(orgId: string, parentTeamId: string | null): Promise<void> {
    if (!parentTeamId) return;
    const tree = await this.tree(orgId);
    if (tree.teams.has(parentTeamId)) return;
    const other = await this.queries.teamOrg(parentTeamId);
    if (other && other !== orgId) throw crossOrgRefusal(parentTeamId, other);
  }

  protected async liveUser(orgId: string, userId: string) {
    const { state } = await this.executor.current(Streams.user(userId), userDecider);
    if (state.exists && state.orgId !== orgId) {
      // Never reveal another org's users: the same answer as an unknown id.
      return userDecider.initialState();
    }
    return state;
  }
}

@CommandHandler(CreateOrg)
export class CreateOrgHandler extends DirectoryHandler implements ICommandHandler<CreateOrg> {
  async execute({ ctx, input }: CreateOrg): Promise<DirectoryCommandResult> {
    const orgId = randomUUID();
    return this.claims.swap(
      ctx,
      orgId,
      [{ kind: 'org-name', from: null, to: input.name, holderUses: this.orgUsesName(input.name) }],
      async () => {
        const r = await this.executor.execute(
          Streams.org(orgId),
          orgDecider,
          { type: 'CreateOrg', orgId, ...input },
          ctx,
          { orgId },
        );
        return result(orgId, r);
      },
    );
  }
}

@CommandHandler(UpdateOrg)
export class UpdateOrgHandler extends DirectoryHandler implements ICommandHandler<UpdateOrg> {
  async execute({ ctx, orgId, changes, expectedRevision }: UpdateOrg): Promise<DirectoryCommandResult> {
    const current = await this.liveOrg(orgId);
    const newName = changes.name ?? null;
    return this.claims.swap(
      ctx,
      orgId,
      [{ kind: 'org-name', from: current.name, to: newName, holderUses: this.orgUsesName(newName ?? '') }],
      async () => {
        const r = await this.executor.execute(
          Streams.org(orgId),
          orgDecider,
          { type: 'UpdateOrg', orgId, changes },
          ctx,
          {
            orgId,
            expectedRevision,
          },
        );
        return result(orgId, r);
      },
    );
  }
}

@CommandHandler(DeleteOrg)
export class DeleteOrgHandler extends DirectoryHandler implements ICommandHandler<DeleteOrg> {
  async execute({ ctx, orgId, expectedRevision }: DeleteOrg): Promise<DirectoryCommandResult> {
    const org = await this.liveOrg(orgId);
    const liveTeams = (await this.liveTeamIds(orgId)).size;
    await this.queries.catchUp();
    const liveUsers = await this.queries.countUsers({ orgId });
    const r = await this.executor.execute(
      Streams.org(orgId),
      orgDecider,
      { type: 'DeleteOrg', orgId, liveTeams, liveUsers },
      ctx,
      {
        orgId,
        expectedRevision,
      },
    );
    await this.claims.release('org-name', org.name, orgId, ctx);
    return result(orgId, r);
  }
}

@CommandHandler(CreateTeam)
export class CreateTeamHandler extends DirectoryHandler implements ICommandHandler<CreateTeam> {
  async execute({ ctx, orgId, input }: CreateTeam): Promise<DirectoryCommandResult> {
    await this.liveOrg(orgId);
    await this.refuseForeignParent(orgId, input.parentTeamId);
    const teamId = randomUUID();
    const r = await this.executor.execute(
      Streams.teams(orgId),
      teamTreeDecider,
      { type: 'CreateTeam', orgId, teamId, ...input },
      ctx,
      {
        orgId,
      },
    );
    return result(teamId, r, '0');
  }
}

@CommandHandler(RenameTeam)
export class RenameTeamHandler extends DirectoryHandler implements ICommandHandler<RenameTeam> {
  async execute({ ctx, orgId, teamId, name, expectedVersion }: RenameTeam): Promise<DirectoryCommandResult> {
    await this.liveOrg(orgId);
    const r = await this.executor.execute(
      Streams.teams(orgId),
      teamTreeDecider,
      { type: 'RenameTeam', orgId, teamId, name, expectedVersion },
      ctx,
      { orgId },
    );
    return result(teamId, r, String((await this.tree(orgId)).teams.get(teamId)!.version));
  }
}

@CommandHandler(MoveTeam)
export class MoveTeamHandler extends DirectoryHandler implements ICommandHandler<MoveTeam> {
  async execute({
    ctx,
    orgId,
    teamId,
    parentTeamId,
    expectedVersion,
  }: MoveTeam): Promise<DirectoryCommandResult> {
    await this.liveOrg(orgId);
    await this.refuseForeignParent(orgId, parentTeamId);
    const r = await this.executor.execute(
      Streams.teams(orgId),
      teamTreeDecider,
      { type: 'MoveTeam', orgId, teamId, parentTeamId, expectedVersion },
      ctx,
      { orgId },
    );
    return result(teamId, r, String((await this.tree(orgId)).teams.get(teamId)!.version));
  }
}

@CommandHandler(DeleteTeam)
export class DeleteTeamHandler extends DirectoryHandler implements ICommandHandler<DeleteTeam> {
  async execute({ ctx, orgId, teamId, expectedVersion }: DeleteTeam): Promise<DirectoryCommandResult> {
    await this.liveOrg(orgId);
    await this.queries.catchUp();
    const memberCount = await this.queries.countUsers({ orgId, teamIds: teamId });
    const r = await this.executor.execute(
      Streams.teams(orgId),
      teamTreeDecider,
      { type: 'DeleteTeam', orgId, teamId, memberCount, expectedVersion },
      ctx,
      { orgId },
    );
    return result(teamId, r, String((await this.tree(orgId)).teams.get(teamId)!.version));
  }
}

@CommandHandler(CreateUser)
export class CreateUserHandler extends DirectoryHandler implements ICommandHandler<CreateUser> {
  async execute({ ctx, orgId, input }: CreateUser): Promise<DirectoryCommandResult> {
    await this.liveOrg(orgId);
    const liveTeamIds = await this.liveTeamIds(orgId);
    const userId = randomUUID();
    // Refuse unknown teams before taking any claim.
    accepted(
      userDecider.decide(
        { type: 'CreateUser', orgId, userId, ...input, liveTeamIds },
        userDecider.initialState(),
      ),
    );
    return this.claims.swap(
      ctx,
      userId,
      [
        {
          kind: 'username',
          from: null,
          to: input.username,
          holderUses: this.userUses('username', input.username),
        },
        { kind: 'email', from: null, to: input.email, holderUses: this.userUses('email', input.email) },
      ],
      async () => {
        const r = await this.executor.execute(
          Streams.user(userId),
          userDecider,
          { type: 'CreateUser', orgId, userId, ...input, liveTeamIds },
          ctx,
          { orgId },
        );
        return result(userId, r);
      },
    );
  }
}

@CommandHandler(UpdateUser)
export class UpdateUserHandler extends DirectoryHandler implements ICommandHandler<UpdateUser> {
  async execute({
    ctx,
    orgId,
    userId,
    changes,
    expectedRevision,
  }: UpdateUser): Promise<DirectoryCommandResult> {
    await this.liveOrg(orgId);
    const user = await this.liveUser(orgId, userId);
    const liveTeamIds = await this.liveTeamIds(orgId);
    accepted(userDecider.decide({ type: 'UpdateUser', userId, changes, liveTeamIds }, user));
    return this.claims.swap(
      ctx,
      userId,
      [
        {
          kind: 'username',
          from: user.username,
          to: changes.username ?? null,
          holderUses: this.userUses('username', changes.username ?? ''),
        },
        {
          kind: 'email',
          from: user.email,
          to: changes.email ?? null,
          holderUses: this.userUses('email', changes.email ?? ''),
        },
      ],
      async () => {
        const r = await this.executor.execute(
          Streams.user(userId),
          userDecider,
          { type: 'UpdateUser', userId, changes, liveTeamIds },
          ctx,
          {
            orgId,
            expectedRevision,
          },
        );
        return result(userId, r);
      },
    );
  }
}

@CommandHandler(SetUserStatus)
export class SetUserStatusHandler extends DirectoryHandler implements ICommandHandler<SetUserStatus> {
  async execute({
    ctx,
    orgId,
    userId,
    status,
    reason,
    expectedRevision,
  }: SetUserStatus): Promise<DirectoryCommandResult> {
    await this.liveOrg(orgId);
    assertUser(await this.liveUser(orgId, userId), userId);
    const command =
      status === 'inactive'
        ? ({ type: 'DeactivateUser', userId, reason } as const)
        : ({ type: 'ReactivateUser', userId } as const);
    const r = await this.executor.execute(Streams.user(userId), userDecider, command, ctx, {
      orgId,
      expectedRevision,
    });
    return result(userId, r);
  }
}

@CommandHandler(DeleteUser)
export class DeleteUserHandler extends DirectoryHandler implements ICommandHandler<DeleteUser> {
  async execute({ ctx, orgId, userId, expectedRevision }: DeleteUser): Promise<DirectoryCommandResult> {
    await this.liveOrg(orgId);
    const user = await this.liveUser(orgId, userId);
    accepted(userDecider.decide({ type: 'DeleteUser', userId }, user));
    const r = await this.executor.execute(
      Streams.user(userId),
      userDecider,
      { type: 'DeleteUser', userId },
      ctx,
      {
        orgId,
        expectedRevision,
      },
    );
    await this.claims.release('username', user.username, userId, ctx);
    await this.claims.release('email', user.email, userId, ctx);
    return result(userId, r);
  }
}

@CommandHandler(ChangeMembership)
export class ChangeMembershipHandler extends DirectoryHandler implements ICommandHandler<ChangeMembership> {
  async execute({ ctx, orgId, userId, teamId, join }: ChangeMembership): Promise<DirectoryCommandResult> {
    await this.liveOrg(orgId);
    const user = await this.liveUser(orgId, userId);
    const liveTeamIds = await this.liveTeamIds(orgId);
    const command = join
      ? ({ type: 'JoinTeam', userId, teamId, liveTeamIds } as const)
      : ({ type: 'LeaveTeam', userId, teamId } as const);
    accepted(userDecider.decide(command, user));
    const r = await this.executor.execute(Streams.user(userId), userDecider, command, ctx, { orgId });
    return result(userId, r);
  }
}

export const DIRECTORY_HANDLERS = [
  CreateOrgHandler,
  UpdateOrgHandler,
  DeleteOrgHandler,
  CreateTeamHandler,
  RenameTeamHandler,
  MoveTeamHandler,
  DeleteTeamHandler,
  CreateUserHandler,
  UpdateUserHandler,
  SetUserStatusHandler,
  DeleteUserHandler,
  ChangeMembershipHandler,
];
