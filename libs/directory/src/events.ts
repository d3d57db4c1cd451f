import { DomainEvent } from '@purser/core';

/** The directory's facts. Stable names; never edited in place (add a version and an upcaster instead). */

export interface ContactInfo {
  email?: string;
  phone?: string;
  name?: string;
}

export type OrgCreated = DomainEvent<
  'OrgCreated',
  {
    orgId: string;
    name: string;
    address: string | null;
    contactInfo: ContactInfo;
    baseCurrency: string;
    timeZone: string;
  }
>;
export type OrgUpdated = DomainEvent<
  'OrgUpdated',
  {
    orgId: string;
    changes: Partial<{
      name: string;
      address: string | null;
      contactInfo: ContactInfo;
      baseCurrency: string;
      timeZone: string;
    }>;
  }
>;
export type OrgDeleted = DomainEvent<'OrgDeleted', { orgId: string }>;
export type OrgEvent = OrgCreated | OrgUpdated | OrgDeleted;

export type TeamCreated = DomainEvent<
  'TeamCreated',
  { orgId: string; teamId: string; name: string; parentTeamId: string | null }
>;
export type TeamRenamed = DomainEvent<'TeamRenamed', { orgId: string; teamId: string; name: string }>;
export type TeamMoved = DomainEvent<
  'TeamMoved',
  { orgId: string; teamId: string; fromParentTeamId: string | null; toParentTeamId: string | null }
>;
export type TeamDeleted = DomainEvent<'TeamDeleted', { orgId: string; teamId: string }>;
export type TeamEvent = TeamCreated | TeamRenamed | TeamMoved | TeamDeleted;

export type UserStatus = 'active' | 'inactive';

export type UserCreated = DomainEvent<
  'UserCreated',
  {
    orgId: string;
    userId: string;
    username: string;
    email: string;
    displayName: string | null;
    primaryTeamId: string | null;
    roleId: string | null;
  }
>;
export type UserUpdated = DomainEvent<
  'UserUpdated',
  {
    orgId: string;
    userId: string;
    changes: Partial<{
      username: string;
      email: string;
      displayName: string | null;
      primaryTeamId: string | null;
      roleId: string | null;
    }>;
  }
>;
export type UserDeactivated = DomainEvent<
  'UserDeactivated',
  { orgId: string; userId: string; reason: string | null }
>;
export type UserReactivated = DomainEvent<'UserReactivated', { orgId: string; userId: string }>;
export type UserDeleted = DomainEvent<'UserDeleted', { orgId: string; userId: string }>;
export type UserJoinedTeam = DomainEvent<'UserJoinedTeam', { orgId: string; userId: string; teamId: string }>;
export type UserLeftTeam = DomainEvent<'UserLeftTeam', { orgId: string; userId: string; teamId: string }>;
export type UserEvent =
  UserCreated | UserUpdated | UserDeactivated | UserReactivated | UserDeleted | UserJoinedTeam | UserLeftTeam;

/** Uniqueness claims (org names, usernames, emails): one stream per claimed value, raced with optimistic concurrency. */
export type ClaimKind = 'org-name' | 'username' | 'email';
export type ClaimAcquired = DomainEvent<'ClaimAcquired', { kind: ClaimKind; ownerId: string }>;
export type ClaimReleased = DomainEvent<
  'ClaimReleased',
  { kind: ClaimKind; ownerId: string; reason: 'released' | 'stale' }
>;
export type ClaimEvent = ClaimAcquired | ClaimReleased;

export type DirectoryEvent = OrgEvent | TeamEvent | UserEvent | ClaimEvent;

export const DIRECTORY_EVENT_TYPES = [
  'OrgCreated',
  'OrgUpdated',
  'OrgDeleted',
  'TeamCreated',
  'TeamRenamed',
  'TeamMoved',
  'TeamDeleted',
  'UserCreated',
  'UserUpdated',
  'UserDeactivated',
  'UserReactivated',
  'UserDeleted',
  'UserJoinedTeam',
  'UserLeftTeam',
  'ClaimAcquired',
  'ClaimReleased',
] as const satisfies readonly DirectoryEvent['type'][];
