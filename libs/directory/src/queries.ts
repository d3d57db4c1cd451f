import { Inject, Injectable } from '@nestjs/common';
import {
  CommandExecutor,
  EVENT_STORE,
  EventStore,
  Filter,
  NotFoundError,
  PositionWaiter,
  READ_STORE,
  ReadStore,
} from '@purser/core';
import { CONFIG, PurserConfig } from '@purser/platform';
import {
  DIRECTORY_PROJECTION,
  ORGS,
  OrgDoc,
  TEAMS,
  TeamDoc,
  USERS,
  UserDoc,
  searchTokens,
} from './projection';
import { Streams } from './streams';
import { orgDecider } from './org.decider';
import { teamTreeDecider } from './teams.decider';
import { userDecider } from './user.decider';

export interface OrgView {
  id: string;
  name: string;
  address: string | null;
  contactInfo: Record<string, string>;
  baseCurrency: string;
  timeZone: string;
  createdAt: string;
  updatedAt: string;
  revision: string;
}
export interface TeamView {
  id: string;
  orgId: string;
  name: string;
  parentTeamId: string | null;
  createdAt: string;
  updatedAt: string;
  revision: string;
}
export interface TeamTreeNode extends TeamView {
  children: TeamTreeNode[];
}
export interface UserView {
  id: string;
  orgId: string;
  username: string;
  email: string;
  displayName: string | null;
  status: 'active' | 'inactive';
  primaryTeamId: string | null;
  teamIds: string[];
  roleId: string | null;
  mfaEnabled: boolean;
  lastLogin: string | null;
  createdAt: string;
  updatedAt: string;
  revision: string;
}

export const orgView = (d: OrgDoc): OrgView => ({
  id: d._id,
  name: d.name,
  address: d.address,
  contactInfo: d.contactInfo,
  baseCurrency: d.baseCurrency,
  timeZone: d.timeZone,
  createdAt: d.createdAt,
  updatedAt: d.updatedAt,
  revision: String(d.revision),
});
export const teamView = (d: TeamDoc): TeamView => ({
  id: d._id,
  orgId: d.orgId,
  name: d.name,
  parentTeamId: d.parentTeamId,
  createdAt: d.createdAt,
  updatedAt: d.updatedAt,
  revision: String(d.revision),
});
export const userView = (d: UserDoc): UserView => ({
  id: d._id,
  orgId: d.orgId,
  username: d.username,
  email: d.email,
  displayName: d.displayName,
  status: d.status,
  primaryTeamId: d.primaryTeamId,
  teamIds: d.teamIds,
  roleId: d.roleId,
  mfaEnabled: d.mfaEnabled,
  lastLogin: d.lastLogin,
  createdAt: d.createdAt,
  updatedAt: d.updatedAt,
  revision: String(d.revision),
});

export interface UserFilter {
  teamId?: string;
  includeSubTeams?: boolean;
  status?: 'active' | 'inactive';
  q?: string;
  limit: number;
  cursor?: string;
}

/** The directory's read side: read models for current state, the streams themselves for point-in-time reads. */
@Injectable()
export class DirectoryQueries {
  constructor(
    @Inject(READ_STORE) private readonly store: ReadStore,
    @Inject(EVENT_STORE) private readonly events: EventStore,
    private readonly executor: CommandExecutor,
    private readonly waiter: PositionWaiter,
    @Inject(CONFIG) private readonly config: PurserConfig,
  ) {}

  /** Waits until the directory read models include everything appended so far (used before counting). */
  async catchUp(): Promise<void> {
    await this.waiter.waitFor(
      await this.events.headPosition(),
      [DIRECTORY_PROJECTION],
      this.config.minPositionTimeoutMs,
    );
  }

  async org(orgId: string): Promise<OrgView> {
    const d = await this.store.get<OrgDoc>(ORGS, orgId);
    if (!d || d.deleted)
      throw new NotFoundError(`org ${orgId} not found`, [{ field: 'orgId', problem: 'unknown' }]);
    return orgView(d);
  }

  async orgAsOf(orgId: string, asOf: string): Promise<OrgView> {
    const { state, revision } = await this.executor.load(Streams.org(orgId), orgDecider, asOf);
    if (!state.exists || state.deleted) {
      throw new NotFoundError(`org ${orgId} did not exist at ${asOf}`, [
        { field: 'asOf', problem: 'no such org then' },
      ]);
    }
    return {
      id: orgId,
      name: state.name,
      address: state.address,
      contactInfo: state.contactInfo as Record<string, string>,
      baseCurrency: state.baseCurrency,
      timeZone: state.timeZone,
      createdAt: state.createdAt!,
      updatedAt: state.updatedAt!,
      revision: revision.toString(),
    };
  }

  /** Live orgs by name; `onlyOrgId`: the one org a confined caller may see. */
  async orgs(limit: number, cursor?: string, onlyOrgId?: string) {
    const page = await this.store.find<OrgDoc>(
      ORGS,
      onlyOrgId === undefined ? { deleted: false } : { deleted: false, _id: onlyOrgId },
      { sort: { nameLower: 1 }, limit, cursor },
    );
    return { items: page.items.map(orgView), nextCursor: page.nextCursor };
  }

  async orgExists(orgId: string): Promise<boolean> {
    const d = await this.store.get<OrgDoc>(ORGS, orgId);
    return !!d && !d.deleted;
  }

  async teams(orgId: string): Promise<TeamDoc[]> {
    const out: TeamDoc[] = [];
    let cursor: string | null | undefined;
    do {
      const page = await this.store.find<TeamDoc>(
        TEAMS,
        { orgId, deleted: false },
        { sort: { nameLower: 1 }, limit: 5000, cursor },
      );
      out.push(...page.items);
      cursor = page.nextCursor;
    } while (cursor);
    return out;
  }

  async team(orgId: string, teamId: string): Promise<TeamView> {
    const d = await this.store.get<TeamDoc>(TEAMS, teamId);
    if (!d || d.deleted || d.orgId !== orgId) {
      throw new NotFoundError(`team ${teamId} not found in org ${orgId}`, [
        { field: 'teamId', problem: 'unknown' },
      ]);
    }
    return teamView(d);
  }

  /** The org a team lives in, if any (to explain a cross-org refusal). */
  async teamOrg(teamId: string): Promise<string | null> {
    const d = await this.store.get<TeamDoc>(TEAMS, teamId);
    return d && !d.deleted ? d.orgId : null;
  }

  async teamAsOf(orgId: string, teamId: string, asOf: string): Promise<TeamView> {
    const { state } = await this.executor.load(Streams.teams(orgId), teamTreeDecider, asOf);
    const t = state.teams.get(teamId);
    if (!t || t.deleted) {
      throw new NotFoundError(`team ${teamId} did not exist in org ${orgId} at ${asOf}`, [
        { field: 'asOf', problem: 'no such team then' },
      ]);
    }
    return {
      id: t.teamId,
      orgId,
      name: t.name,
      parentTeamId: t.parentTeamId,
      createdAt: t.createdAt!,
      updatedAt: t.updatedAt!,
      revision: String(t.version),
    };
  }

  async tree(orgId: string): Promise<TeamTreeNode[]> {
    const teams = await this.teams(orgId);
    const nodes = new Map(teams.map((t) => [t._id, { ...teamView(t), children: [] as TeamTreeNode[] }]));
    const roots: TeamTreeNode[] = [];
    for (const n of nodes.values()) {
      const parent = n.parentTeamId ? nodes.get(n.parentTeamId) : undefined;
      (parent ? parent.children : roots).push(n);
    }
    return roots;
  }

  async ancestors(orgId: string, teamId: string): Promise<TeamView[]> {
    await this.team(orgId, teamId);
    const byId = new Map((await this.teams(orgId)).map((t) => [t._id, t]));
    const out: TeamView[] = [];
    let cur = byId.get(teamId)?.parentTeamId ?? null;
    while (cur && byId.has(cur) && out.length < byId.size) {
      const t = byId.get(cur)!;
      out.push(teamView(t));
      cur = t.parentTeamId;
    }
    return out;
  }

  async descendantIds(orgId: string, teamId: string, teams?: TeamDoc[]): Promise<string[]> {
    teams ??= await this.teams(orgId);
    const kids = new Map<string, string[]>();
    for (const t of teams)
      if (t.parentTeamId) kids.set(t.parentTeamId, [...(kids.get(t.parentTeamId) ?? []), t._id]);
    const out: string[] = [];
    const queue = [teamId];
    while (queue.length) {
      for (const k of kids.get(queue.shift()!) ?? []) {
        out.push(k);
        queue.push(k);
      }
    }
    return out;
  }

  async descendants(orgId: string, teamId: string): Promise<TeamView[]> {
    await this.team(orgId, teamId);
    const teams = await this.teams(orgId);
    const byId = new Map(teams.map((t) => [t._id, t]));
    return (await this.descendantIds(orgId, teamId, teams)).map((id) => teamView(byId.get(id)!));
  }

  async user(orgId: string, userId: string): Promise<UserView> {
    const d = await this.store.get<UserDoc>(USERS, userId);
    if (!d || d.deleted || d.orgId !== orgId) {
      throw new NotFoundError(`user ${userId} not found in org ${orgId}`, [
        { field: 'userId', problem: 'unknown' },
      ]);
    }
    return userView(d);
  }

  async userAsOf(orgId: string, userId: string, asOf: string): Promise<UserView> {
    const { state, revision } = await this.executor.load(Streams.user(userId), userDecider, asOf);
    if (!state.exists || state.deleted || state.orgId !== orgId) {
      throw new NotFoundError(`user ${userId} did not exist in org ${orgId} at ${asOf}`, [
        { field: 'asOf', problem: 'no such user then' },
      ]);
    }
    return {
      id: userId,
      orgId,
      username: state.username,
      email: state.email,
      displayName: state.displayName,
      status: state.status,
      primaryTeamId: state.primaryTeamId,
      teamIds: state.teamIds,
      roleId: state.roleId,
      mfaEnabled: state.mfaEnabled,
      lastLogin: state.lastLogin,
      createdAt: state.createdAt!,
      updatedAt: state.updatedAt!,
      revision: revision.toString(),
    };
  }

  async users(orgId: string, f: UserFilter) {
    const filter: Filter = { orgId, deleted: false };
    if (f.status) filter.status = f.status;
    if (f.teamId) {
      await this.team(orgId, f.teamId);
      const ids =
        f.includeSubTeams === false ? [f.teamId] : [f.teamId, ...(await this.descendantIds(orgId, f.teamId))];
      filter.teamIds = { $in: ids };
    }
    if (f.q) {
      const token = searchTokens(f.q.trim()).sort((a, b) => b.length - a.length)[0];
      if (token) filter.searchTokens = token;
    }
    const page = await this.store.find<UserDoc>(USERS, filter, {
      sort: { usernameLower: 1 },
      limit: f.limit,
      cursor: f.cursor,
    });
    return { items: page.items.map(userView), nextCursor: page.nextCursor };
  }

  async countUsers(filter: Filter): Promise<number> {
    return this.store.count(USERS, { ...filter, deleted: false });
  }
}
