import type { SeedStream } from './api-spec';

/**
 * A directory world seeded as events, for API specs that need an org, teams and users without a chain of HTTP calls.
 * Stream names follow the directory's own helper (Streams in libs/directory/src/streams.ts).
 */
export const world = {
  org(orgId: string, o: { name?: string; baseCurrency?: string; timeZone?: string } = {}): SeedStream {
    return {
      streamId: `org-${orgId}`,
      events: [
        {
          type: 'OrgCreated',
          data: {
            orgId,
            name: o.name ?? `Org ${orgId}`,
            address: null,
            contactInfo: {},
            baseCurrency: o.baseCurrency ?? 'EUR',
            timeZone: o.timeZone ?? 'UTC',
          },
        },
      ],
    };
  },
  /** The org's team tree, parents before children. */
  teams(
    orgId: string,
    teams: Array<{ teamId: string; name?: string; parentTeamId?: string | null }>,
  ): SeedStream {
    return {
      streamId: `teams-${orgId}`,
      events: teams.map((t) => ({
        type: 'TeamCreated',
        data: { orgId, teamId: t.teamId, name: t.name ?? t.teamId, parentTeamId: t.parentTeamId ?? null },
      })),
    };
  },
  /** A user, member of `teams` (the first is its primary team). */
  user(orgId: string, userId: string, teams: string[] = []): SeedStream {
    return {
      streamId: `user-${userId}`,
      events: [
        {
          type: 'UserCreated',
          data: {
            orgId,
            userId,
            username: userId,
            email: `${userId}@example.test`,
            displayName: null,
            primaryTeamId: teams[0] ?? null,
            roleId: null,
          },
        },
        ...teams.map((teamId) => ({ type: 'UserJoinedTeam', data: { orgId, userId, teamId } })),
      ],
    };
  },
};
