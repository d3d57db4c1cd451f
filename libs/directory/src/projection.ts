import {
  CollectionSpec,
  Projection,
  ReadStore,
  RecordedEvent,
  padPosition,
  positionGuard,
} from '@purser/core';
import { DirectoryEvent } from './events';
import { DIRECTORY_STREAM_PREFIXES } from './streams';

export const DIRECTORY_PROJECTION = 'directory';
export const ORGS = 'dir_orgs';
export const TEAMS = 'dir_teams';
export const USERS = 'dir_users';

export interface OrgDoc {
  _id: string;
  name: string;
  nameLower: string;
  address: string | null;
  contactInfo: Record<string, string>;
  baseCurrency: string;
  timeZone: string;
  createdAt: string;
  updatedAt: string;
  deleted: boolean;
  revision: number;
  _pos: string;
}
export interface TeamDoc {
  _id: string;
  orgId: string;
  name: string;
  nameLower: string;
  parentTeamId: string | null;
  createdAt: string;
  updatedAt: string;
  deleted: boolean;
  /** Per-team revision (If-Match on team updates). */
  revision: number;
  _pos: string;
}
export interface UserDoc {
  _id: string;
  orgId: string;
  username: string;
  usernameLower: string;
  email: string;
  emailLower: string;
  displayName: string | null;
  status: 'active' | 'inactive';
  primaryTeamId: string | null;
  teamIds: string[];
  roleId: string | null;
  mfaEnabled: boolean;
  lastLogin: string | null;
  createdAt: string;
  updatedAt: string;
  deleted: boolean;
  revision: number;
  /** Lower-cased prefixes of the username, email and display name words: text search without a full scan of strings. */
  searchTokens: string[];
  _pos: string;
}

export function searchTokens(...values: Array<string | null | undefined>): string[] {
  const out = new Set<string>();
  for (const v of values) {
    if (!v) continue;
    const lower = v.normalize('NFKC').toLowerCase();
    for (const word of [lower, ...lower.split(/[^\p{L}\p{N}]+/u)]) {
      for (let i = 1; i <= Math.min(word.length, 32); i++) out.add(word.slice(0, i));
    }
  }
  return [...out];
}

/**
 * Builds the directory read models. Idempotent: every update is guarded by the event's position (`_pos`),
 * so a redelivered event changes nothing. Deleted things stay as tombstones (deleted: true) that queries hide.
 */
/** The part of the access context's SignInSucceeded the directory reads (by its published name and shape). */
type SignInSucceededShape = { type: 'SignInSucceeded'; data: { userId: string } };

export class DirectoryProjection implements Projection {
  readonly name = DIRECTORY_PROJECTION;
  /** The directory's streams, and the access context's credential streams for last_login (SignInSucceeded). */
  readonly filter = { streamPrefixes: [...DIRECTORY_STREAM_PREFIXES, 'credential-'] };
  readonly collections: CollectionSpec[] = [
    { name: ORGS, arrays: [], indexes: [{ fields: { nameLower: 1 } }] },
    { name: TEAMS, arrays: [], indexes: [{ fields: { orgId: 1, nameLower: 1 } }] },
    {
      name: USERS,
      arrays: ['teamIds', 'searchTokens'],
      indexes: [
        { fields: { orgId: 1, usernameLower: 1 } },
        { fields: { emailLower: 1 } },
        { fields: { orgId: 1, status: 1 } },
      ],
    },
  ];

  async handle(events: RecordedEvent[], store: ReadStore): Promise<void> {
    for (const e of events) await this.apply(e as RecordedEvent<DirectoryEvent>, store);
  }

  private async apply(e: RecordedEvent<DirectoryEvent>, store: ReadStore): Promise<void> {
    const at = e.metadata.occurredAt;
    if ((e as RecordedEvent).type === 'SignInSucceeded') {
      // The access context's public event: a user's last sign-in (its other credential events are not ours).
      const { userId } = (e as unknown as RecordedEvent<SignInSucceededShape>).data;
      await store.update(
        USERS,
        userId,
        { $set: { lastLogin: at, _pos: padPosition(e.position) } },
        { upsert: false, guard: positionGuard(e.position) },
      );
      return;
    }
    const _pos = padPosition(e.position);
    const guarded = { upsert: false, guard: positionGuard(e.position) };
    const revision = Number(e.revision);
    switch (e.type) {
      case 'OrgCreated': {
        const d = e.data;
        await store.update(
          ORGS,
          d.orgId,
          {
            $set: {
              name: d.name,
              nameLower: d.name.toLowerCase(),
              address: d.address,
              contactInfo: d.contactInfo,
              baseCurrency: d.baseCurrency,
              timeZone: d.timeZone,
              createdAt: at,
              updatedAt: at,
              deleted: false,
              revision,
              _pos,
            },
          },
          { upsert: true, guard: positionGuard(e.position) },
        );
        return;
      }
      case 'OrgUpdated': {
        const c = e.data.changes;
        const set: Record<string, unknown> = { ...c, updatedAt: at, revision, _pos };
        if (c.name !== undefined) set.nameLower = c.name.toLowerCase();
        await store.update(ORGS, e.data.orgId, { $set: set }, guarded);
        return;
      }
      case 'OrgDeleted':
        await store.update(
          ORGS,
          e.data.orgId,
          { $set: { deleted: true, updatedAt: at, revision, _pos } },
          guarded,
        );
        return;
      case 'TeamCreated': {
        const d = e.data;
        await store.update(
          TEAMS,
          d.teamId,
          {
            $set: {
              orgId: d.orgId,
              name: d.name,
              nameLower: d.name.toLowerCase(),
              parentTeamId: d.parentTeamId,
              createdAt: at,
              updatedAt: at,
              deleted: false,
              revision: 0,
              _pos,
            },
          },
          { upsert: true, guard: positionGuard(e.position) },
        );
        return;
      }
      case 'TeamRenamed':
        await store.update(
          TEAMS,
          e.data.teamId,
          {
            $set: { name: e.data.name, nameLower: e.data.name.toLowerCase(), updatedAt: at, _pos },
            $inc: { revision: 1 },
          },
          guarded,
        );
        return;
      case 'TeamMoved':
        await store.update(
          TEAMS,
          e.data.teamId,
          { $set: { parentTeamId: e.data.toParentTeamId, updatedAt: at, _pos }, $inc: { revision: 1 } },
          guarded,
        );
        return;
      case 'TeamDeleted':
        await store.update(
          TEAMS,
          e.data.teamId,
          { $set: { deleted: true, updatedAt: at, _pos }, $inc: { revision: 1 } },
          guarded,
        );
        return;
      case 'UserCreated': {
        const d = e.data;
        await store.update(
          USERS,
          d.userId,
          {
            $set: {
              orgId: d.orgId,
              username: d.username,
              usernameLower: d.username.toLowerCase(),
              email: d.email,
              emailLower: d.email.toLowerCase(),
              displayName: d.displayName,
              status: 'active',
              primaryTeamId: d.primaryTeamId,
              teamIds: [],
              roleId: d.roleId,
              mfaEnabled: false,
              lastLogin: null,
              createdAt: at,
              updatedAt: at,
              deleted: false,
              revision,
              searchTokens: searchTokens(d.username, d.email, d.displayName),
              _pos,
            },
          },
          { upsert: true, guard: positionGuard(e.position) },
        );
        return;
      }
      case 'UserUpdated': {
        const c = e.data.changes;
        const doc = await store.get<UserDoc>(USERS, e.data.userId);
        if (!doc || doc._pos >= _pos) return;
        const set: Record<string, unknown> = { ...c, updatedAt: at, revision, _pos };
        if (c.username !== undefined) set.usernameLower = c.username.toLowerCase();
        if (c.email !== undefined) set.emailLower = c.email.toLowerCase();
        set.searchTokens = searchTokens(
          c.username ?? doc.username,
          c.email ?? doc.email,
          c.displayName !== undefined ? c.displayName : doc.displayName,
        );
        await store.update(USERS, e.data.userId, { $set: set }, guarded);
        return;
      }
      case 'UserDeactivated':
      case 'UserReactivated':
        await store.update(
          USERS,
          e.data.userId,
          {
            $set: {
              status: e.type === 'UserDeactivated' ? 'inactive' : 'active',
              updatedAt: at,
              revision,
              _pos,
            },
          },
          guarded,
        );
        return;
      case 'UserDeleted':
        await store.update(
          USERS,
          e.data.userId,
          { $set: { deleted: true, updatedAt: at, revision, _pos } },
          guarded,
        );
        return;
      case 'UserJoinedTeam':
      case 'UserLeftTeam': {
        const doc = await store.get<UserDoc>(USERS, e.data.userId);
        if (!doc || doc._pos >= _pos) return;
        const teamIds =
          e.type === 'UserJoinedTeam'
            ? [...doc.teamIds.filter((t) => t !== e.data.teamId), e.data.teamId]
            : doc.teamIds.filter((t) => t !== e.data.teamId);
        await store.update(
          USERS,
          e.data.userId,
          { $set: { teamIds, updatedAt: at, revision, _pos } },
          guarded,
        );
        return;
      }
      default:
        return;
    }
  }
}
