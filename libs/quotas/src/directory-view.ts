import { Injectable } from '@nestjs/common';
import { NotFoundError, RuleViolationError } from '@purser/core';
import { DirectoryLookup, Freshness, LiveOrg, LiveUser, orgNotFound } from '@purser/directory';
import { RatesLookup } from '@purser/usage';

/** What a check needs of the directory: the org, the user and the team path the check weighs on. */
export interface CheckScope {
  org: LiveOrg;
  user: LiveUser;
  /** The team the check is made for (the one named, else the user's primary team), or null. */
  teamId: string | null;
  /** That team and its ancestors up to the root, nearest first ([] without a team). */
  teamPath: string[];
}

/** What quotas needs of a user's teams: the live ones with their ancestors, and their names. */
export interface UserTeams {
  /** Every live team the user is in, with its ancestors. */
  ids: ReadonlySet<string>;
  /** A live team's name; undefined when it is not live. */
  name(teamId: string): string | undefined;
}

/**
 * Everything the quotas context asks of the directory (DirectoryLookup) and usage (RatesLookup), in one place, with
 * the directory's 404s. Freshness 'current' sees every change committed before the call (definitions, views);
 * 'recent' takes the state cache's last catch-up (the quota check's hot path: no event-store read per check; the
 * check appends conditioned on its ledgers' revisions and decides again on a conflict).
 */
@Injectable()
export class QuotaDirectory {
  constructor(
    private readonly directory: DirectoryLookup,
    private readonly rates: RatesLookup,
  ) {}

  /** The org, or the directory's 404 when it does not exist or was deleted. */
  async liveOrg(orgId: string, freshness: Freshness = 'current'): Promise<LiveOrg> {
    return this.orgOr404(orgId, await this.directory.org(orgId, freshness));
  }

  /** The user when it is live and belongs to the org; else null (never reveals another org's users). */
  async liveUser(orgId: string, userId: string, freshness: Freshness = 'current'): Promise<LiveUser | null> {
    return ofOrg(orgId, await this.directory.user(userId, freshness));
  }

  /** Whether the team exists in the org and is not deleted. */
  async isLiveTeam(orgId: string, teamId: string, freshness: Freshness = 'current'): Promise<boolean> {
    return (await this.directory.team(orgId, teamId, freshness)) !== null;
  }

  /**
   * The org, the user and the team path of a check, at freshness 'recent' (the hot path: the states as of the state
   * cache's last catch-up, which the check's batch has just run). 404 when the org or the user (in the org) is not
   * live; 422 when the team named is not one of the user's. Three single reads: with 'recent' a batch saves no
   * event-store query and costs more than they do, and the team tree is read only when there is a team.
   */
  async checkScope(orgId: string, userId: string, teamId: string | undefined): Promise<CheckScope> {
    const org = this.orgOr404(orgId, await this.directory.org(orgId, 'recent'));
    const user = this.userOr404(orgId, userId, await this.directory.user(userId, 'recent'));
    const team = teamId ?? user.primaryTeamId;
    if (!team) return { org, user, teamId: null, teamPath: [] };
    if (!user.teamIds.includes(team))
      throw new RuleViolationError(`user ${userId} is not a member of team ${team}`, [
        { field: 'teamId', problem: 'not a member' },
      ]);
    const chain = await this.directory.parentChain(orgId, team, 'recent');
    return { org, user, teamId: team, teamPath: [team, ...(chain ?? [])] };
  }

  /**
   * The org, the user (404 unless live in the org) and the live teams they are in with their ancestors, read in one
   * batch at freshness 'current' (one event-store query for the three streams).
   */
  async userTeams(orgId: string, userId: string): Promise<{ org: LiveOrg; teams: UserTeams }> {
    const view = await this.directory.batch({ orgIds: [orgId], userIds: [userId] }, 'current');
    const org = this.orgOr404(orgId, view.org(orgId));
    const user = this.userOr404(orgId, userId, view.user(userId));
    const ids = new Set<string>();
    for (const t of user.teamIds) {
      const chain = view.parentChain(orgId, t);
      if (!chain) continue;
      ids.add(t);
      for (const a of chain) ids.add(a);
    }
    return { org, teams: { ids, name: (teamId) => view.team(orgId, teamId)?.name } };
  }

  /** The org's exchange rate from `currency` to `baseCurrency` in force at `instant`; null when none is set. */
  rateAt(
    orgId: string,
    currency: string,
    baseCurrency: string,
    instant: string,
    freshness: Freshness = 'current',
  ): Promise<string | null> {
    return this.rates.rateAt(orgId, baseCurrency, currency, instant, freshness);
  }

  private userOr404(orgId: string, userId: string, user: LiveUser | null): LiveUser {
    const live = ofOrg(orgId, user);
    if (!live)
      throw new NotFoundError(`user ${userId} not found in org ${orgId}`, [
        { field: 'userId', problem: 'unknown' },
      ]);
    return live;
  }

  private orgOr404(orgId: string, org: LiveOrg | null): LiveOrg {
    if (!org) throw orgNotFound(orgId);
    return org;
  }
}

function ofOrg(orgId: string, user: LiveUser | null): LiveUser | null {
  return user && user.orgId === orgId ? user : null;
}
