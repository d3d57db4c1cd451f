import {
  ConflictError,
  Decider,
  NotFoundError,
  Refusal,
  RuleViolationError,
  WrongExpectedVersionError,
  refuse,
} from '@purser/core';
import { TeamEvent } from './events';
import { normalizeUnique } from './streams';

export interface TeamNode {
  teamId: string;
  name: string;
  parentTeamId: string | null;
  deleted: boolean;
  createdAt: string | null;
  updatedAt: string | null;
  /** Per-team revision: how many events about this team, minus one. Used for If-Match on team updates. */
  version: number;
}

/** The org's team tree. One aggregate per org, so cycle checks and sibling-name checks are atomic. */
export interface TeamTreeState {
  teams: ReadonlyMap<string, TeamNode>;
}

export type TeamCommand =
  | { type: 'CreateTeam'; orgId: string; teamId: string; name: string; parentTeamId: string | null }
  | { type: 'RenameTeam'; orgId: string; teamId: string; name: string; expectedVersion?: number }
  | { type: 'MoveTeam'; orgId: string; teamId: string; parentTeamId: string | null; expectedVersion?: number }
  /** The handler counts the team's members; the rule is decided here. */
  | { type: 'DeleteTeam'; orgId: string; teamId: string; memberCount: number; expectedVersion?: number };

type Stamped<E> = E & { metadata?: { occurredAt: string } };

/** The live team, or the 404 refusing a command that names it. */
export function liveTeam(state: TeamTreeState, teamId: string, field = 'teamId'): TeamNode | Refusal {
  const t = state.teams.get(teamId);
  if (!t || t.deleted)
    return refuse(new NotFoundError(`team ${teamId} not found in this org`, [{ field, problem: 'unknown' }]));
  return t;
}

const refused = (t: TeamNode | Refusal): t is Refusal => 'refused' in t;

export function children(state: TeamTreeState, teamId: string | null): TeamNode[] {
  return [...state.teams.values()].filter((t) => !t.deleted && t.parentTeamId === teamId);
}

/** Ancestors from the parent up to the root. */
export function ancestors(state: TeamTreeState, teamId: string): TeamNode[] {
  const out: TeamNode[] = [];
  let cur = state.teams.get(teamId)?.parentTeamId ?? null;
  while (cur) {
    const node = state.teams.get(cur);
    if (!node) break;
    out.push(node);
    cur = node.parentTeamId;
  }
  return out;
}

/** All live descendants, breadth first. */
export function descendants(state: TeamTreeState, teamId: string): TeamNode[] {
  const out: TeamNode[] = [];
  const queue = [teamId];
  while (queue.length) {
    const id = queue.shift()!;
    for (const c of children(state, id)) {
      out.push(c);
      queue.push(c.teamId);
    }
  }
  return out;
}

function staleVersion(team: TeamNode, expected: number | undefined, orgId: string): Refusal | null {
  if (expected !== undefined && expected !== team.version) {
    return refuse(
      new WrongExpectedVersionError(
        `team ${team.teamId} of org ${orgId}`,
        String(expected),
        String(team.version),
      ),
    );
  }
  return null;
}

function siblingNameClash(
  state: TeamTreeState,
  parentTeamId: string | null,
  name: string,
  except?: string,
): Refusal | null {
  const wanted = normalizeUnique(name);
  const clash = children(state, parentTeamId).find(
    (c) => c.teamId !== except && normalizeUnique(c.name) === wanted,
  );
  if (clash) {
    return refuse(
      new ConflictError(`a team named "${clash.name}" already exists under the same parent`, [
        { field: 'name', problem: 'duplicate among siblings', teamId: clash.teamId },
      ]),
    );
  }
  return null;
}

export const teamTreeDecider: Decider<TeamCommand, TeamTreeState, Stamped<TeamEvent>> = {
  initialState: () => ({ teams: new Map() }),

  decide(command, state) {
    const { orgId } = command;
    switch (command.type) {
      case 'CreateTeam': {
        if (state.teams.has(command.teamId)) {
          return refuse(
            new ConflictError(`team ${command.teamId} already exists`, [
              { field: 'teamId', problem: 'exists' },
            ]),
          );
        }
        if (command.parentTeamId) {
          const parent = liveTeam(state, command.parentTeamId, 'parentTeamId');
          if (refused(parent)) return parent;
        }
        const clash = siblingNameClash(state, command.parentTeamId, command.name);
        if (clash) return clash;
        return [
          {
            type: 'TeamCreated',
            data: { orgId, teamId: command.teamId, name: command.name, parentTeamId: command.parentTeamId },
          },
        ];
      }
      case 'RenameTeam': {
        const team = liveTeam(state, command.teamId);
        if (refused(team)) return team;
        const stale = staleVersion(team, command.expectedVersion, orgId);
        if (stale) return stale;
        if (team.name === command.name) return [];
        const clash = siblingNameClash(state, team.parentTeamId, command.name, team.teamId);
        if (clash) return clash;
        return [{ type: 'TeamRenamed', data: { orgId, teamId: team.teamId, name: command.name } }];
      }
      case 'MoveTeam': {
        const team = liveTeam(state, command.teamId);
        if (refused(team)) return team;
        const stale = staleVersion(team, command.expectedVersion, orgId);
        if (stale) return stale;
        const to = command.parentTeamId;
        if (team.parentTeamId === to) return [];
        if (to !== null) {
          const parent = liveTeam(state, to, 'parentTeamId');
          if (refused(parent)) return parent;
          if (to === team.teamId) {
            return refuse(
              new ConflictError(`team ${team.teamId} cannot be its own parent`, [
                { field: 'parentTeamId', problem: 'cycle', path: [team.teamId] },
              ]),
            );
          }
          const chain = [to, ...ancestors(state, to).map((a) => a.teamId)];
          if (chain.includes(team.teamId)) {
            const path = chain.slice(0, chain.indexOf(team.teamId) + 1).reverse();
            return refuse(
              new ConflictError(
                `moving team "${team.name}" under "${state.teams.get(to)!.name}" would make a cycle: ` +
                  `"${state.teams.get(to)!.name}" is inside "${team.name}" (${path.join(' > ')})`,
                [{ field: 'parentTeamId', problem: 'cycle', path }],
              ),
            );
          }
        }
        const clash = siblingNameClash(state, to, team.name, team.teamId);
        if (clash) return clash;
        return [
          {
            type: 'TeamMoved',
            data: { orgId, teamId: team.teamId, fromParentTeamId: team.parentTeamId, toParentTeamId: to },
          },
        ];
      }
      case 'DeleteTeam': {
        const team = liveTeam(state, command.teamId);
        if (refused(team)) return team;
        const stale = staleVersion(team, command.expectedVersion, orgId);
        if (stale) return stale;
        const subTeams = children(state, team.teamId);
        if (subTeams.length || command.memberCount) {
          const parts = [
            subTeams.length
              ? `${subTeams.length} sub-team(s) (${subTeams.map((s) => `"${s.name}"`).join(', ')})`
              : '',
            command.memberCount ? `${command.memberCount} member(s)` : '',
          ].filter(Boolean);
          return refuse(
            new ConflictError(`team "${team.name}" still has ${parts.join(' and ')}; move them first`, [
              ...(subTeams.length
                ? [{ field: 'subTeams', problem: 'not empty', teamIds: subTeams.map((s) => s.teamId) }]
                : []),
              ...(command.memberCount
                ? [{ field: 'members', problem: 'not empty', count: command.memberCount }]
                : []),
            ]),
          );
        }
        return [{ type: 'TeamDeleted', data: { orgId, teamId: team.teamId } }];
      }
    }
  },

  evolve(state, event) {
    const at = event.metadata?.occurredAt ?? null;
    const teams = new Map(state.teams);
    const cur = teams.get(event.data.teamId);
    switch (event.type) {
      case 'TeamCreated':
        teams.set(event.data.teamId, {
          teamId: event.data.teamId,
          name: event.data.name,
          parentTeamId: event.data.parentTeamId,
          deleted: false,
          createdAt: at,
          updatedAt: at,
          version: 0,
        });
        break;
      case 'TeamRenamed':
        if (cur)
          teams.set(cur.teamId, { ...cur, name: event.data.name, updatedAt: at, version: cur.version + 1 });
        break;
      case 'TeamMoved':
        if (cur)
          teams.set(cur.teamId, {
            ...cur,
            parentTeamId: event.data.toParentTeamId,
            updatedAt: at,
            version: cur.version + 1,
          });
        break;
      case 'TeamDeleted':
        if (cur) teams.set(cur.teamId, { ...cur, deleted: true, updatedAt: at, version: cur.version + 1 });
        break;
      default:
        return state;
    }
    return { teams };
  },
};

/** Refuses a parent that exists in another org with a clear 422 rather than a bare 404. */
export function crossOrgRefusal(teamId: string, otherOrgId: string): RuleViolationError {
  return new RuleViolationError(
    `team ${teamId} belongs to org ${otherOrgId}; teams cannot move or nest across orgs`,
    [{ field: 'parentTeamId', problem: 'crosses orgs' }],
  );
}
