import { RuleViolationError } from '@purser/core';
import type { DirectoryView, LiveOrg, LiveUser } from '@purser/directory';
import { given } from '@purser/testkit';
import { UsageRecorded } from './events';
import { RecordUsageCommand, usageDecider } from './usage.decider';
import { UsageInput } from './usage-input';

/**
 * The directory as a batch read it (DirectoryLookup.batch): o1 with Engineering > Platform > Storage and Sales
 * (Sales deleted), o2 alongside. u1 in Platform (primary) and Storage; u2 in no team; u3 in o2; u4 a member of the
 * deleted Sales; u5 inactive.
 */
const orgs = new Map<string, LiveOrg>([
  ['o1', { orgId: 'o1', name: 'Acme', baseCurrency: 'EUR', timeZone: 'Europe/Paris' }],
  ['o2', { orgId: 'o2', name: 'Other', baseCurrency: 'USD', timeZone: 'UTC' }],
]);
const parents: Record<string, string | null> = { eng: null, platform: 'eng', storage: 'platform' };
const user = (
  userId: string,
  orgId: string,
  teamIds: string[],
  status: LiveUser['status'] = 'active',
): LiveUser => ({
  userId,
  orgId,
  status,
  primaryTeamId: teamIds[0] ?? null,
  teamIds,
  username: userId,
  email: `${userId}@example.test`,
  displayName: null,
  roleId: null,
});
const users = new Map<string, LiveUser>(
  [
    user('u1', 'o1', ['platform', 'storage']),
    user('u2', 'o1', []),
    user('u3', 'o2', []),
    user('u4', 'o1', ['sales']),
    user('u5', 'o1', ['eng'], 'inactive'),
  ].map((u) => [u.userId, u]),
);
const chain = (orgId: string, teamId: string): string[] | null => {
  if (orgId !== 'o1' || !(teamId in parents)) return null;
  const up: string[] = [];
  for (let t = parents[teamId]; t; t = parents[t]) up.push(t);
  return up;
};
const directory: DirectoryView = {
  org: (orgId) => orgs.get(orgId) ?? null,
  user: (userId) => users.get(userId) ?? null,
  team: (orgId, teamId) =>
    chain(orgId, teamId) ? { orgId, teamId, name: teamId, parentTeamId: parents[teamId] } : null,
  teamPath: (orgId, teamId) => chain(orgId, teamId)?.reverse().concat(teamId) ?? null,
  parentChain: chain,
};

const usage = (u: Partial<UsageInput> = {}): UsageInput => ({
  eventId: 'evt-1',
  orgId: 'o1',
  userId: 'u1',
  itemType: 'Agent',
  itemId: 'research-agent',
  amount: '1.250000000',
  currency: 'USD',
  occurredAt: '2026-03-01T10:00:00.000Z',
  ...u,
});
const record = (u: Partial<UsageInput> = {}): RecordUsageCommand => ({
  type: 'RecordUsage',
  usage: usage(u),
  directory,
});
const recorded = (data: Partial<UsageRecorded['data']>): UsageRecorded => ({
  type: 'UsageRecorded',
  data: {
    usageId: 'evt-1',
    orgId: 'o1',
    userId: 'u1',
    teamId: 'platform',
    teamPath: ['platform', 'eng'],
    itemType: 'Agent',
    itemId: 'research-agent',
    amount: '1.25',
    currency: 'USD',
    inputTokens: null,
    outputTokens: null,
    model: null,
    occurredAt: '2026-03-01T10:00:00.000Z',
    reservationId: null,
    attributes: {},
    timeZone: 'Europe/Paris',
    baseCurrency: 'EUR',
    ...data,
  },
});

describe('usage decider', () => {
  it("given a live org and user, when recording usage, then UsageRecorded with the primary team's path, the org's zone and base currency, and the amount canonical", () => {
    given(usageDecider)
      .when(record())
      .then([recorded({})]);
  });

  it('given a user in several teams, when the usage names one of them, then it is stamped with that team and its ancestors', () => {
    given(usageDecider)
      .when(
        record({ teamId: 'storage', inputTokens: 10, outputTokens: 20, model: 'm', attributes: { k: 'v' } }),
      )
      .then([
        recorded({
          teamId: 'storage',
          teamPath: ['storage', 'platform', 'eng'],
          inputTokens: 10,
          outputTokens: 20,
          model: 'm',
          attributes: { k: 'v' },
        }),
      ]);
  });

  it('given a user in no team, when recording usage, then it is recorded with no team and an empty path', () => {
    given(usageDecider)
      .when(record({ userId: 'u2' }))
      .then([recorded({ userId: 'u2', teamId: null, teamPath: [] })]);
  });

  it('given an inactive user, when recording usage, then it is recorded (an inactive user is live)', () => {
    given(usageDecider)
      .when(record({ userId: 'u5' }))
      .then([recorded({ userId: 'u5', teamId: 'eng', teamPath: ['eng'] })]);
  });

  it('given a currency other than the base (with or without a rate), when recording usage, then the amount keeps its own currency', () => {
    given(usageDecider)
      .when(record({ currency: 'GBP', amount: '0.000000001' }))
      .then([recorded({ currency: 'GBP', amount: '0.000000001' })]);
  });

  it('given an org that does not exist or was deleted, when recording usage, then it is refused naming orgId', () => {
    const err = given(usageDecider)
      .when(record({ orgId: 'gone' }))
      .thenRefuses(RuleViolationError, /^unknown org gone$/);
    expect(err.details).toEqual([{ field: 'orgId', problem: 'unknown' }]);
  });

  it('given a user that does not exist, or lives in another org, when recording usage, then it is refused naming userId', () => {
    for (const userId of ['nobody', 'u3']) {
      const err = given(usageDecider)
        .when(record({ userId }))
        .thenRefuses(RuleViolationError, new RegExp(`^unknown user ${userId} in org o1$`));
      expect(err.details).toEqual([{ field: 'userId', problem: 'unknown' }]);
    }
  });

  it('given a team the user is not a member of, when recording usage, then it is refused naming teamId', () => {
    const err = given(usageDecider)
      .when(record({ teamId: 'eng' }))
      .thenRefuses(RuleViolationError, /^user u1 is not a member of team eng$/);
    expect(err.details).toEqual([{ field: 'teamId', problem: 'not a member' }]);
  });

  it('given a user whose team was deleted, when recording usage, then it is refused naming teamId as unknown', () => {
    const err = given(usageDecider)
      .when(record({ userId: 'u4' }))
      .thenRefuses(RuleViolationError, /^unknown team sales in org o1$/);
    expect(err.details).toEqual([{ field: 'teamId', problem: 'unknown' }]);
  });

  it('given the same usage already recorded, when recorded again, then the decider answers the same event: duplicates are told apart by the event store (appendOnce on the eventId), not by a fold', () => {
    const first = given(usageDecider)
      .when(record())
      .then([recorded({})]);
    given(usageDecider, first).when(record()).then(first);
    expect(given(usageDecider, first).state).toEqual(usageDecider.initialState());
  });
});
