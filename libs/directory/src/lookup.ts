import { Inject, Injectable } from '@nestjs/common';
import { CommandExecutor, EVENT_STORE, EventStore, Evolver } from '@purser/core';
import { UserStatus } from './events';
import { Streams, normalizeUnique } from './streams';
import { ClaimState, claimDecider } from './claim.decider';
import { OrgState, orgDecider } from './org.decider';
import { UserState, userDecider } from './user.decider';
import { TeamTreeState, ancestors, teamTreeDecider } from './teams.decider';

/**
 * How fresh an answer must be. 'current': everything committed before the call (reads the stream's new events).
 * 'recent': the state cache's bounded-staleness read (as of its last catch-up; no read when the cache holds the
 * stream), for hot paths that append optimistically and check again on a conflict.
 */
export type Freshness = 'current' | 'recent';

/** An org that exists and is not deleted. */
export interface LiveOrg {
  readonly orgId: string;
  readonly name: string;
  readonly baseCurrency: string;
  readonly timeZone: string;
}

/** A user that exists and is not deleted (inactive users are live: status says so). */
export interface LiveUser {
  readonly userId: string;
  readonly orgId: string;
  readonly status: UserStatus;
  readonly primaryTeamId: string | null;
  /** Every team the user is a member of, the primary team included. */
  readonly teamIds: readonly string[];
  readonly username: string;
  readonly email: string;
  readonly displayName: string | null;
  readonly roleId: string | null;
}

/** A team that exists and is not deleted. */
export interface LiveTeam {
  readonly orgId: string;
  readonly teamId: string;
  readonly name: string;
  readonly parentTeamId: string | null;
}

/** Answers about the orgs and users a batch named, all read at once (see DirectoryLookup.batch). */
export interface DirectoryView {
  /** The org, or null when it does not exist or was deleted. */
  org(orgId: string): LiveOrg | null;
  /** The user, or null when they do not exist or were deleted. Compare orgId to check the org. */
  user(userId: string): LiveUser | null;
  /** The live team of the org, or null. */
  team(orgId: string, teamId: string): LiveTeam | null;
  /** A live team's path from its top-level team down to it (root first, the team last), or null. */
  teamPath(orgId: string, teamId: string): readonly string[] | null;
  /** A live team's ancestors from its parent up to the top-level team ([] for a top-level team), or null. */
  parentChain(orgId: string, teamId: string): readonly string[] | null;
}

/** The orgs (with their team trees) and users a batch asks about. */
export interface DirectoryQuery {
  orgIds: Iterable<string>;
  userIds?: Iterable<string>;
}

/**
 * What other contexts may ask of the directory: read-only views of live orgs, users and teams, from the folded
 * states the command executor caches (no read-model round trip, no projection lag). Never the directory's states.
 */
export abstract class DirectoryLookup {
  abstract org(orgId: string, freshness?: Freshness): Promise<LiveOrg | null>;
  abstract user(userId: string, freshness?: Freshness): Promise<LiveUser | null>;
  abstract team(orgId: string, teamId: string, freshness?: Freshness): Promise<LiveTeam | null>;
  abstract teamPath(orgId: string, teamId: string, freshness?: Freshness): Promise<readonly string[] | null>;
  abstract parentChain(
    orgId: string,
    teamId: string,
    freshness?: Freshness,
  ): Promise<readonly string[] | null>;
  /**
   * The named orgs, their team trees and the named users, read together. 'current' costs one
   * EventStore.streamRevisions query for the whole batch (plus the new events of streams the cache does not hold at
   * their revision); 'recent' reads only streams the cache does not trust.
   */
  abstract batch(query: DirectoryQuery, freshness?: Freshness): Promise<DirectoryView>;
  /**
   * The named orgs, their team trees and the named users as they were at an instant: each stream folded over the
   * events that occurred at or before it (point-in-time answers; reads every named stream, no cache).
   */
  abstract asOf(query: DirectoryQuery, asOf: string): Promise<DirectoryView>;
  /**
   * The live user of an org who holds a username or an email now (both are unique across the instance,
   * case-insensitive), or null: sign-in by name. Always 'current'.
   */
  abstract userByName(
    orgId: string,
    name: { username: string } | { email: string },
  ): Promise<LiveUser | null>;
}

// Views are made once per folded state (states are immutable: a new event makes a new state object).
const orgViews = new WeakMap<OrgState, LiveOrg | null>();
const userViews = new WeakMap<UserState, LiveUser | null>();
interface TeamEntry {
  team: LiveTeam;
  path: readonly string[];
  chain: readonly string[];
}
const treeViews = new WeakMap<TeamTreeState, Map<string, TeamEntry | null>>();

function liveOrg(s: OrgState): LiveOrg | null {
  let v = orgViews.get(s);
  if (v === undefined) {
    v =
      s.exists && !s.deleted
        ? { orgId: s.orgId, name: s.name, baseCurrency: s.baseCurrency, timeZone: s.timeZone }
        : null;
    orgViews.set(s, v);
  }
  return v;
}

function liveUser(s: UserState): LiveUser | null {
  let v = userViews.get(s);
  if (v === undefined) {
    v =
      s.exists && !s.deleted
        ? {
            userId: s.userId,
            orgId: s.orgId,
            status: s.status,
            primaryTeamId: s.primaryTeamId,
            teamIds: s.teamIds,
            username: s.username,
            email: s.email,
            displayName: s.displayName,
            roleId: s.roleId,
          }
        : null;
    userViews.set(s, v);
  }
  return v;
}

function teamEntry(orgId: string, tree: TeamTreeState, teamId: string): TeamEntry | null {
  let byTeam = treeViews.get(tree);
  if (!byTeam) treeViews.set(tree, (byTeam = new Map()));
  let entry = byTeam.get(teamId);
  if (entry === undefined) {
    const node = tree.teams.get(teamId);
    if (!node || node.deleted) entry = null;
    else {
      const chain = ancestors(tree, teamId).map((t) => t.teamId);
      entry = {
        team: { orgId, teamId, name: node.name, parentTeamId: node.parentTeamId },
        chain,
        path: [...chain].reverse().concat(teamId),
      };
    }
    byTeam.set(teamId, entry);
  }
  return entry;
}

/** The states a batch read, by stream id. */
class BatchView implements DirectoryView {
  constructor(private readonly states: ReadonlyMap<string, unknown>) {}

  org(orgId: string): LiveOrg | null {
    return liveOrg(this.named<OrgState>(Streams.org(orgId), 'org', orgId));
  }
  user(userId: string): LiveUser | null {
    return liveUser(this.named<UserState>(Streams.user(userId), 'user', userId));
  }
  team(orgId: string, teamId: string): LiveTeam | null {
    return this.entry(orgId, teamId)?.team ?? null;
  }
  teamPath(orgId: string, teamId: string): readonly string[] | null {
    return this.entry(orgId, teamId)?.path ?? null;
  }
  parentChain(orgId: string, teamId: string): readonly string[] | null {
    return this.entry(orgId, teamId)?.chain ?? null;
  }
  private entry(orgId: string, teamId: string): TeamEntry | null {
    return teamEntry(orgId, this.named<TeamTreeState>(Streams.teams(orgId), 'org', orgId), teamId);
  }
  private named<S>(streamId: string, what: string, id: string): S {
    const s = this.states.get(streamId);
    if (s === undefined) throw new Error(`${what} ${id} was not named in the directory batch`);
    return s as S;
  }
}

/** The streams a query names, each with its evolver. */
function wantedBy(query: DirectoryQuery): Array<[string, Evolver<unknown, never>]> {
  const wanted: Array<[string, Evolver<unknown, never>]> = [];
  for (const o of new Set(query.orgIds)) {
    wanted.push([Streams.org(o), orgDecider as never]);
    wanted.push([Streams.teams(o), teamTreeDecider as never]);
  }
  for (const u of new Set(query.userIds ?? [])) wanted.push([Streams.user(u), userDecider as never]);
  return wanted;
}

/** DirectoryLookup over the command executor's state cache. */
@Injectable()
export class CachedDirectoryLookup extends DirectoryLookup {
  constructor(
    private readonly executor: CommandExecutor,
    @Inject(EVENT_STORE) private readonly store: EventStore,
  ) {
    super();
  }

  private async state<S>(streamId: string, evolver: Evolver<S, never>, freshness: Freshness): Promise<S> {
    const folded =
      freshness === 'recent'
        ? await this.executor.recent(streamId, evolver)
        : await this.executor.current(streamId, evolver);
    return folded.state;
  }

  private tree(orgId: string, freshness: Freshness): Promise<TeamTreeState> {
    return this.state(Streams.teams(orgId), teamTreeDecider as never, freshness);
  }

  async org(orgId: string, freshness: Freshness = 'current'): Promise<LiveOrg | null> {
    return liveOrg(await this.state(Streams.org(orgId), orgDecider as never, freshness));
  }

  async userByName(orgId: string, name: { username: string } | { email: string }): Promise<LiveUser | null> {
    const [kind, value] =
      'username' in name ? (['username', name.username] as const) : (['email', name.email] as const);
    const claim = await this.state(
      Streams.claim(kind, normalizeUnique(value)),
      claimDecider as never,
      'current',
    );
    const holder = (claim as ClaimState).holder;
    if (!holder) return null;
    const user = await this.user(holder, 'current');
    // The claim may outlive its use (a crash between claim and rename): the user's own state decides.
    if (!user || user.orgId !== orgId) return null;
    const held = kind === 'username' ? user.username : user.email;
    return normalizeUnique(held) === normalizeUnique(value) ? user : null;
  }

  async user(userId: string, freshness: Freshness = 'current'): Promise<LiveUser | null> {
    return liveUser(await this.state(Streams.user(userId), userDecider as never, freshness));
  }

  async team(orgId: string, teamId: string, freshness: Freshness = 'current'): Promise<LiveTeam | null> {
    return teamEntry(orgId, await this.tree(orgId, freshness), teamId)?.team ?? null;
  }

  async teamPath(orgId: string, teamId: string, freshness: Freshness = 'current') {
    return teamEntry(orgId, await this.tree(orgId, freshness), teamId)?.path ?? null;
  }

  async parentChain(orgId: string, teamId: string, freshness: Freshness = 'current') {
    return teamEntry(orgId, await this.tree(orgId, freshness), teamId)?.chain ?? null;
  }

  async asOf(query: DirectoryQuery, asOf: string): Promise<DirectoryView> {
    const states = new Map<string, unknown>();
    for (const [id, evolver] of wantedBy(query))
      states.set(id, (await this.executor.load(id, evolver as never, asOf)).state);
    return new BatchView(states);
  }

  async batch(query: DirectoryQuery, freshness: Freshness = 'current'): Promise<DirectoryView> {
    const wanted = wantedBy(query);
    const states = new Map<string, unknown>();
    if (freshness === 'recent') {
      for (const [id, evolver] of wanted) states.set(id, (await this.executor.recent(id, evolver)).state);
    } else if (wanted.length) {
      // One query for every revision; the executor reuses a state it folded to the same revision and reads only
      // the new events of the others. So a batch sees every change committed before it, at the cost of one query.
      const revisions = await this.store.streamRevisions(wanted.map(([id]) => id));
      for (const [id, evolver] of wanted) {
        const revision = revisions.get(id) ?? -1n;
        states.set(id, (await this.executor.atRevision(id, evolver, revision)).state);
      }
    }
    return new BatchView(states);
  }
}
