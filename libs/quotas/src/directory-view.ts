import { Injectable } from '@nestjs/common';
import { CommandExecutor, DomainEvent, Evolver, FoldedState } from '@purser/core';
import { Streams, ancestors, assertLive, orgDecider, teamTreeDecider, userDecider } from '@purser/directory';
import { UsageStreams, rateAt, ratesDecider } from '@purser/usage';

/** What quotas needs of an org. */
export interface OrgView {
  baseCurrency: string;
  timeZone: string;
}

/** What quotas needs of a live user of the org. */
export interface UserView {
  primaryTeamId: string | null;
  teamIds: readonly string[];
}

/** What quotas needs of an org's team tree (one read for several questions). */
export interface TeamsView {
  /** The team exists in the org and is not deleted. */
  isLive(teamId: string): boolean;
  /** The team and its ancestors up to the root, nearest first. */
  path(teamId: string): string[];
  /** The team's name (deleted teams too); undefined when unknown. */
  name(teamId: string): string | undefined;
}

/**
 * Everything the quotas context asks of the directory and usage contexts, in one place. `fresh` true reads each
 * stream up to its tail (what a definition or a view needs); false takes the state as of the last catch-up without
 * reading when it is cached (the quota check's hot path: no event-store read per check).
 */
@Injectable()
export class DirectoryView {
  constructor(private readonly executor: CommandExecutor) {}

  private read<S, E extends DomainEvent>(
    streamId: string,
    decider: Evolver<S, E>,
    fresh: boolean,
  ): Promise<FoldedState<S>> {
    return fresh ? this.executor.current(streamId, decider) : this.executor.recent(streamId, decider);
  }

  /** The org, or the directory's 404 when it does not exist or was deleted. */
  async liveOrg(orgId: string, fresh = true): Promise<OrgView> {
    const { state } = await this.read(Streams.org(orgId), orgDecider, fresh);
    assertLive(state, orgId);
    return state;
  }

  /** The user when it exists, is not deleted and belongs to the org; else null (never reveals another org's users). */
  async liveUser(orgId: string, userId: string, fresh = true): Promise<UserView | null> {
    const { state } = await this.read(Streams.user(userId), userDecider, fresh);
    return state.exists && !state.deleted && state.orgId === orgId ? state : null;
  }

  async teams(orgId: string, fresh = true): Promise<TeamsView> {
    const tree = (await this.read(Streams.teams(orgId), teamTreeDecider, fresh)).state;
    return {
      isLive: (teamId) => {
        const t = tree.teams.get(teamId);
        return !!t && !t.deleted;
      },
      path: (teamId) => [teamId, ...ancestors(tree, teamId).map((t) => t.teamId)],
      name: (teamId) => tree.teams.get(teamId)?.name,
    };
  }

  /** The team and its ancestors up to the root, nearest first. */
  async teamPath(orgId: string, teamId: string, fresh = true): Promise<string[]> {
    return (await this.teams(orgId, fresh)).path(teamId);
  }

  /** The org's exchange rate from `currency` to `baseCurrency` in force at `instant`; null when none is set. */
  async rateAt(
    orgId: string,
    currency: string,
    baseCurrency: string,
    instant: string,
    fresh = true,
  ): Promise<string | null> {
    const rates = (await this.read(UsageStreams.rates(orgId), ratesDecider, fresh)).state;
    return rateAt(rates, baseCurrency, currency, instant);
  }
}
