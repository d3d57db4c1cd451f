import { ConflictError, NotFoundError, WrongExpectedVersionError } from '@purser/core';
import { given } from '@purser/testkit';
import { TeamEvent } from './events';
import { ancestors, descendants, teamTreeDecider } from './teams.decider';

const org = 'o1';
const created = (teamId: string, name: string, parentTeamId: string | null = null): TeamEvent => ({
  type: 'TeamCreated',
  data: { orgId: org, teamId, name, parentTeamId },
});
// eng > platform > storage ; sales
const tree: TeamEvent[] = [
  created('eng', 'Engineering'),
  created('plat', 'Platform', 'eng'),
  created('sto', 'Storage', 'plat'),
  created('sales', 'Sales'),
];

describe('team tree decider', () => {
  describe('CreateTeam', () => {
    it('given an empty org, when creating a top-level team, then TeamCreated', () => {
      given(teamTreeDecider)
        .when({ type: 'CreateTeam', orgId: org, teamId: 't1', name: 'Eng', parentTeamId: null })
        .then([{ type: 'TeamCreated', data: { orgId: org, teamId: 't1', name: 'Eng', parentTeamId: null } }]);
    });

    it('given a parent, when creating a child under it, then TeamCreated names the parent', () => {
      given(teamTreeDecider, tree)
        .when({ type: 'CreateTeam', orgId: org, teamId: 'db', name: 'Databases', parentTeamId: 'sto' })
        .then([
          { type: 'TeamCreated', data: { orgId: org, teamId: 'db', name: 'Databases', parentTeamId: 'sto' } },
        ]);
    });

    it('given no such parent, when creating under it, then 404 naming parentTeamId', () => {
      const err = given(teamTreeDecider, tree)
        .when({ type: 'CreateTeam', orgId: org, teamId: 'x', name: 'X', parentTeamId: 'nope' })
        .thenRefuses(NotFoundError, /nope/);
      expect(err.details).toEqual([expect.objectContaining({ field: 'parentTeamId' })]);
    });

    it('given a deleted parent, when creating under it, then 404', () => {
      given(teamTreeDecider, [...tree, { type: 'TeamDeleted', data: { orgId: org, teamId: 'sales' } }])
        .when({ type: 'CreateTeam', orgId: org, teamId: 'x', name: 'X', parentTeamId: 'sales' })
        .thenRefuses(NotFoundError);
    });

    it('given a sibling with the same name in another case, when creating, then 409', () => {
      given(teamTreeDecider, tree)
        .when({ type: 'CreateTeam', orgId: org, teamId: 'x', name: 'platform', parentTeamId: 'eng' })
        .thenRefuses(ConflictError, /already exists under the same parent/);
    });

    it('given the same name elsewhere in the tree, when creating, then it is allowed', () => {
      given(teamTreeDecider, tree)
        .when({ type: 'CreateTeam', orgId: org, teamId: 'x', name: 'Platform', parentTeamId: 'sales' })
        .then([{ type: 'TeamCreated' }]);
    });
  });

  describe('MoveTeam', () => {
    it('given a three-level tree, when moving a team under another branch, then TeamMoved with from and to', () => {
      given(teamTreeDecider, tree)
        .when({ type: 'MoveTeam', orgId: org, teamId: 'sto', parentTeamId: 'sales' })
        .then([
          {
            type: 'TeamMoved',
            data: { orgId: org, teamId: 'sto', fromParentTeamId: 'plat', toParentTeamId: 'sales' },
          },
        ]);
    });

    it('given a team, when moving it under its own grandchild, then 409 cycle with the path', () => {
      const err = given(teamTreeDecider, tree)
        .when({ type: 'MoveTeam', orgId: org, teamId: 'eng', parentTeamId: 'sto' })
        .thenRefuses(ConflictError, /would make a cycle/);
      expect(err.details).toEqual([
        expect.objectContaining({ field: 'parentTeamId', problem: 'cycle', path: ['eng', 'plat', 'sto'] }),
      ]);
    });

    it('given a team, when moving it under itself, then 409 cycle', () => {
      given(teamTreeDecider, tree)
        .when({ type: 'MoveTeam', orgId: org, teamId: 'plat', parentTeamId: 'plat' })
        .thenRefuses(ConflictError, /own parent/);
    });

    it('given a team, when moving it to the top level, then TeamMoved to null', () => {
      given(teamTreeDecider, tree)
        .when({ type: 'MoveTeam', orgId: org, teamId: 'plat', parentTeamId: null })
        .then([
          {
            type: 'TeamMoved',
            data: { orgId: org, teamId: 'plat', fromParentTeamId: 'eng', toParentTeamId: null },
          },
        ]);
    });

    it('given a team already under that parent, when moving it there, then nothing happens', () => {
      given(teamTreeDecider, tree)
        .when({ type: 'MoveTeam', orgId: org, teamId: 'plat', parentTeamId: 'eng' })
        .thenNothing();
    });

    it('given a stale If-Match version, when moving, then 409 version clash', () => {
      given(teamTreeDecider, [
        ...tree,
        { type: 'TeamRenamed', data: { orgId: org, teamId: 'plat', name: 'Core' } },
      ])
        .when({ type: 'MoveTeam', orgId: org, teamId: 'plat', parentTeamId: null, expectedVersion: 0 })
        .thenRefuses(WrongExpectedVersionError);
    });
  });

  describe('RenameTeam and DeleteTeam', () => {
    it('given a team, when renaming it, then TeamRenamed', () => {
      given(teamTreeDecider, tree)
        .when({ type: 'RenameTeam', orgId: org, teamId: 'sales', name: 'Revenue', expectedVersion: 0 })
        .then([{ type: 'TeamRenamed', data: { orgId: org, teamId: 'sales', name: 'Revenue' } }]);
    });

    it('given a team with sub-teams, when deleting it, then 409 naming the sub-teams', () => {
      const err = given(teamTreeDecider, tree)
        .when({ type: 'DeleteTeam', orgId: org, teamId: 'eng', memberCount: 0 })
        .thenRefuses(ConflictError, /sub-team.*"Platform"/);
      expect(err.details).toEqual([expect.objectContaining({ field: 'subTeams', teamIds: ['plat'] })]);
    });

    it('given a team with members, when deleting it, then 409 saying how many', () => {
      given(teamTreeDecider, tree)
        .when({ type: 'DeleteTeam', orgId: org, teamId: 'sales', memberCount: 3 })
        .thenRefuses(ConflictError, /3 member/);
    });

    it('given an empty leaf team, when deleting it, then TeamDeleted, and it is gone from the tree', () => {
      const [deleted] = given(teamTreeDecider, tree)
        .when({ type: 'DeleteTeam', orgId: org, teamId: 'sto', memberCount: 0 })
        .then([{ type: 'TeamDeleted' }]);
      const after = given(teamTreeDecider, [...tree, deleted]);
      expect(descendants(after.state, 'eng').map((t) => t.teamId)).toEqual(['plat']);
    });
  });

  it('given a tree, then ancestors go up to the root and descendants go down breadth first', () => {
    const { state } = given(teamTreeDecider, [
      ...tree,
      created('db', 'DB', 'sto'),
      created('web', 'Web', 'plat'),
    ]);
    expect(ancestors(state, 'db').map((t) => t.teamId)).toEqual(['sto', 'plat', 'eng']);
    expect(descendants(state, 'eng').map((t) => t.teamId)).toEqual(['plat', 'sto', 'web', 'db']);
  });
});
