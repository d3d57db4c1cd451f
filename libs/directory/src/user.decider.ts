import { ConflictError, Decider, NotFoundError, Refusal, ValidationError, refuse } from '@purser/core';
import { UserEvent, UserStatus } from './events';

export interface UserState {
  exists: boolean;
  deleted: boolean;
  userId: string;
  orgId: string;
  username: string;
  email: string;
  displayName: string | null;
  status: UserStatus;
  primaryTeamId: string | null;
  teamIds: string[];
  roleId: string | null;
  mfaEnabled: boolean;
  lastLogin: string | null;
  createdAt: string | null;
  updatedAt: string | null;
}

export interface UserChanges {
  username?: string;
  email?: string;
  displayName?: string | null;
  primaryTeamId?: string | null;
  roleId?: string | null;
}

/** Team ids are checked against the org's live teams, which the handler reads and passes in. */
export type UserCommand =
  | {
      type: 'CreateUser';
      orgId: string;
      userId: string;
      username: string;
      email: string;
      displayName: string | null;
      primaryTeamId: string | null;
      teamIds: string[];
      roleId: string | null;
      liveTeamIds: ReadonlySet<string>;
    }
  | { type: 'UpdateUser'; userId: string; changes: UserChanges; liveTeamIds: ReadonlySet<string> }
  | { type: 'DeactivateUser'; userId: string; reason: string | null }
  | { type: 'ReactivateUser'; userId: string }
  | { type: 'DeleteUser'; userId: string }
  | { type: 'JoinTeam'; userId: string; teamId: string; liveTeamIds: ReadonlySet<string> }
  | { type: 'LeaveTeam'; userId: string; teamId: string };

type Stamped<E> = E & { metadata?: { occurredAt: string } };

function unknownTeams(
  ids: Array<string | null | undefined>,
  live: ReadonlySet<string>,
  field: string,
): Refusal | null {
  const unknown = ids.filter((id): id is string => !!id && !live.has(id));
  if (!unknown.length) return null;
  return refuse(
    new NotFoundError(`team(s) ${unknown.join(', ')} not found in this org`, [
      { field, problem: 'unknown team', teamIds: unknown },
    ]),
  );
}

/** The 404 refusing a command on a user that does not exist or was deleted; null when the user lives. */
function unknownUser(state: UserState, userId: string): Refusal<NotFoundError> | null {
  if (state.exists && !state.deleted) return null;
  return refuse(new NotFoundError(`user ${userId} not found`, [{ field: 'userId', problem: 'unknown' }]));
}

/** For handlers: raises the 404 unless the user lives. */
export function assertUser(state: UserState, userId: string): void {
  const refusal = unknownUser(state, userId);
  if (refusal) throw refusal.refused;
}

export const userDecider: Decider<UserCommand, UserState, Stamped<UserEvent>> = {
  initialState: () => ({
    exists: false,
    deleted: false,
    userId: '',
    orgId: '',
    username: '',
    email: '',
    displayName: null,
    status: 'active',
    primaryTeamId: null,
    teamIds: [],
    roleId: null,
    mfaEnabled: false,
    lastLogin: null,
    createdAt: null,
    updatedAt: null,
  }),

  decide(command, state) {
    switch (command.type) {
      case 'CreateUser': {
        if (state.exists)
          return refuse(
            new ConflictError(`user ${command.userId} already exists`, [
              { field: 'userId', problem: 'exists' },
            ]),
          );
        const unknown =
          unknownTeams([command.primaryTeamId], command.liveTeamIds, 'primaryTeamId') ??
          unknownTeams(command.teamIds, command.liveTeamIds, 'teamIds');
        if (unknown) return unknown;
        const { orgId, userId } = command;
        const teams = [
          ...new Set([...(command.primaryTeamId ? [command.primaryTeamId] : []), ...command.teamIds]),
        ];
        return [
          {
            type: 'UserCreated',
            data: {
              orgId,
              userId,
              username: command.username,
              email: command.email,
              displayName: command.displayName,
              primaryTeamId: command.primaryTeamId,
              roleId: command.roleId,
            },
          },
          ...teams.map((teamId) => ({ type: 'UserJoinedTeam' as const, data: { orgId, userId, teamId } })),
        ];
      }
      case 'UpdateUser': {
        const missing = unknownUser(state, command.userId);
        if (missing) return missing;
        if (Object.keys(command.changes).length === 0) {
          return refuse(
            new ValidationError('nothing to update', [{ problem: 'the body names no field to change' }]),
          );
        }
        const unknown = unknownTeams([command.changes.primaryTeamId], command.liveTeamIds, 'primaryTeamId');
        if (unknown) return unknown;
        const changes = Object.fromEntries(
          Object.entries(command.changes).filter(
            ([k, v]) => v !== undefined && v !== (state as unknown as Record<string, unknown>)[k],
          ),
        ) as UserChanges;
        if (Object.keys(changes).length === 0) return [];
        const { orgId, userId } = state;
        const out: UserEvent[] = [{ type: 'UserUpdated', data: { orgId, userId, changes } }];
        if (changes.primaryTeamId && !state.teamIds.includes(changes.primaryTeamId)) {
          out.push({ type: 'UserJoinedTeam', data: { orgId, userId, teamId: changes.primaryTeamId } });
        }
        return out;
      }
      case 'DeactivateUser': {
        const missing = unknownUser(state, command.userId);
        if (missing) return missing;
        if (state.status === 'inactive') return [];
        return [
          {
            type: 'UserDeactivated',
            data: { orgId: state.orgId, userId: state.userId, reason: command.reason },
          },
        ];
      }
      case 'ReactivateUser':
        return (
          unknownUser(state, command.userId) ??
          (state.status === 'active'
            ? []
            : [{ type: 'UserReactivated', data: { orgId: state.orgId, userId: state.userId } }])
        );
      case 'DeleteUser':
        return (
          unknownUser(state, command.userId) ?? [
            { type: 'UserDeleted', data: { orgId: state.orgId, userId: state.userId } },
          ]
        );
      case 'JoinTeam': {
        const refusal =
          unknownUser(state, command.userId) ?? unknownTeams([command.teamId], command.liveTeamIds, 'teamId');
        if (refusal) return refusal;
        if (state.teamIds.includes(command.teamId)) return [];
        return [
          {
            type: 'UserJoinedTeam',
            data: { orgId: state.orgId, userId: state.userId, teamId: command.teamId },
          },
        ];
      }
      case 'LeaveTeam': {
        const missing = unknownUser(state, command.userId);
        if (missing) return missing;
        if (!state.teamIds.includes(command.teamId)) {
          return refuse(
            new NotFoundError(`user ${command.userId} is not a member of team ${command.teamId}`, [
              { field: 'teamId', problem: 'not a member' },
            ]),
          );
        }
        if (state.primaryTeamId === command.teamId) {
          return refuse(
            new ConflictError(
              `team ${command.teamId} is the primary team of user ${command.userId}; set another primary team first`,
              [{ field: 'teamId', problem: 'primary team' }],
            ),
          );
        }
        return [
          {
            type: 'UserLeftTeam',
            data: { orgId: state.orgId, userId: state.userId, teamId: command.teamId },
          },
        ];
      }
    }
  },

  evolve(state, event) {
    const at = event.metadata?.occurredAt ?? state.updatedAt;
    switch (event.type) {
      case 'UserCreated':
        return {
          ...state,
          ...event.data,
          exists: true,
          deleted: false,
          status: 'active',
          createdAt: at,
          updatedAt: at,
        };
      case 'UserUpdated':
        return { ...state, ...event.data.changes, updatedAt: at };
      case 'UserDeactivated':
        return { ...state, status: 'inactive', updatedAt: at };
      case 'UserReactivated':
        return { ...state, status: 'active', updatedAt: at };
      case 'UserDeleted':
        return { ...state, deleted: true, updatedAt: at };
      case 'UserJoinedTeam':
        return state.teamIds.includes(event.data.teamId)
          ? state
          : { ...state, teamIds: [...state.teamIds, event.data.teamId], updatedAt: at };
      case 'UserLeftTeam':
        return { ...state, teamIds: state.teamIds.filter((t) => t !== event.data.teamId), updatedAt: at };
      default:
        return state;
    }
  },
};
