import { ConflictError, NotFoundError, ValidationError } from '@purser/core';
import { given } from '@purser/testkit';
import { UserEvent } from './events';
import { userDecider } from './user.decider';

const teams = new Set(['t1', 't2', 't3']);
const created: UserEvent[] = [
  {
    type: 'UserCreated',
    data: {
      orgId: 'o1',
      userId: 'u1',
      username: 'ada',
      email: 'Ada@Acme.test',
      displayName: null,
      primaryTeamId: 't1',
      roleId: null,
    },
  },
  { type: 'UserJoinedTeam', data: { orgId: 'o1', userId: 'u1', teamId: 't1' } },
];

describe('user decider', () => {
  it('given nothing, when creating a user with a primary team and another team, then UserCreated and one join per team', () => {
    given(userDecider)
      .when({
        type: 'CreateUser',
        orgId: 'o1',
        userId: 'u1',
        username: 'ada',
        email: 'ada@acme.test',
        displayName: 'Ada',
        primaryTeamId: 't1',
        teamIds: ['t2', 't1'],
        roleId: null,
        liveTeamIds: teams,
      })
      .then([
        { type: 'UserCreated' },
        { type: 'UserJoinedTeam', data: { orgId: 'o1', userId: 'u1', teamId: 't1' } },
        { type: 'UserJoinedTeam', data: { orgId: 'o1', userId: 'u1', teamId: 't2' } },
      ]);
  });

  it('given an unknown team, when creating a user in it, then 404 naming the team', () => {
    given(userDecider)
      .when({
        type: 'CreateUser',
        orgId: 'o1',
        userId: 'u1',
        username: 'ada',
        email: 'ada@acme.test',
        displayName: null,
        primaryTeamId: null,
        teamIds: ['ghost'],
        roleId: null,
        liveTeamIds: teams,
      })
      .thenRefuses(NotFoundError, /ghost/);
  });

  it('given a user, when deactivating then deactivating again, then one UserDeactivated and then nothing', () => {
    const [ev] = given(userDecider, created)
      .when({ type: 'DeactivateUser', userId: 'u1', reason: 'left' })
      .then([{ type: 'UserDeactivated' }]);
    given(userDecider, [...created, ev])
      .when({ type: 'DeactivateUser', userId: 'u1', reason: null })
      .thenNothing();
    given(userDecider, [...created, ev])
      .when({ type: 'ReactivateUser', userId: 'u1' })
      .then([{ type: 'UserReactivated' }]);
  });

  it('given a user, when changing the primary team to a team they are not in, then they also join it', () => {
    given(userDecider, created)
      .when({ type: 'UpdateUser', userId: 'u1', changes: { primaryTeamId: 't2' }, liveTeamIds: teams })
      .then([
        { type: 'UserUpdated', data: { orgId: 'o1', userId: 'u1', changes: { primaryTeamId: 't2' } } },
        { type: 'UserJoinedTeam' },
      ]);
  });

  it('given a user, when updating with identical values, then nothing is appended', () => {
    given(userDecider, created)
      .when({ type: 'UpdateUser', userId: 'u1', changes: { username: 'ada' }, liveTeamIds: teams })
      .thenNothing();
  });

  it('given a user, when updating with no fields, then 400', () => {
    given(userDecider, created)
      .when({ type: 'UpdateUser', userId: 'u1', changes: {}, liveTeamIds: teams })
      .thenRefuses(ValidationError);
  });

  it('given a user in their primary team, when leaving it, then 409 explains why', () => {
    given(userDecider, created)
      .when({ type: 'LeaveTeam', userId: 'u1', teamId: 't1' })
      .thenRefuses(ConflictError, /primary team/);
  });

  it('given a user in two teams, when leaving the secondary one, then UserLeftTeam', () => {
    const joined: UserEvent = { type: 'UserJoinedTeam', data: { orgId: 'o1', userId: 'u1', teamId: 't2' } };
    given(userDecider, [...created, joined])
      .when({ type: 'LeaveTeam', userId: 'u1', teamId: 't2' })
      .then([{ type: 'UserLeftTeam' }]);
  });

  it('given a deleted user, when doing anything, then 404', () => {
    const deleted: UserEvent = { type: 'UserDeleted', data: { orgId: 'o1', userId: 'u1' } };
    given(userDecider, [...created, deleted])
      .when({ type: 'DeactivateUser', userId: 'u1', reason: null })
      .thenRefuses(NotFoundError);
    given(userDecider, [...created, deleted])
      .when({ type: 'JoinTeam', userId: 'u1', teamId: 't2', liveTeamIds: teams })
      .thenRefuses(NotFoundError);
  });
});
