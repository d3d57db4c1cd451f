import { CommandContext } from '@purser/core';
import { ContactInfo } from './events';
import { UserChanges } from './user.decider';

/** Commands dispatched through @nestjs/cqrs's CommandBus (in-process only; never stored, so class names are safe). */

export class CreateOrg {
  constructor(
    readonly ctx: CommandContext,
    readonly input: {
      name: string;
      address: string | null;
      contactInfo: ContactInfo;
      baseCurrency: string;
      timeZone: string;
    },
  ) {}
}
export class UpdateOrg {
  constructor(
    readonly ctx: CommandContext,
    readonly orgId: string,
    readonly changes: Partial<{
      name: string;
      address: string | null;
      contactInfo: ContactInfo;
      baseCurrency: string;
      timeZone: string;
    }>,
    readonly expectedRevision?: bigint,
  ) {}
}
export class DeleteOrg {
  constructor(
    readonly ctx: CommandContext,
    readonly orgId: string,
    readonly expectedRevision?: bigint,
  ) {}
}

export class CreateTeam {
  constructor(
    readonly ctx: CommandContext,
    readonly orgId: string,
    readonly input: { name: string; parentTeamId: string | null },
  ) {}
}
export class RenameTeam {
  constructor(
    readonly ctx: CommandContext,
    readonly orgId: string,
    readonly teamId: string,
    readonly name: string,
    readonly expectedVersion?: number,
  ) {}
}
export class MoveTeam {
  constructor(
    readonly ctx: CommandContext,
    readonly orgId: string,
    readonly teamId: string,
    readonly parentTeamId: string | null,
    readonly expectedVersion?: number,
  ) {}
}
export class DeleteTeam {
  constructor(
    readonly ctx: CommandContext,
    readonly orgId: string,
    readonly teamId: string,
    readonly expectedVersion?: number,
  ) {}
}

export class CreateUser {
  constructor(
    readonly ctx: CommandContext,
    readonly orgId: string,
    readonly input: {
      username: string;
      email: string;
      displayName: string | null;
      primaryTeamId: string | null;
      teamIds: string[];
      roleId: string | null;
    },
  ) {}
}
export class UpdateUser {
  constructor(
    readonly ctx: CommandContext,
    readonly orgId: string,
    readonly userId: string,
    readonly changes: UserChanges,
    readonly expectedRevision?: bigint,
  ) {}
}
export class SetUserStatus {
  constructor(
    readonly ctx: CommandContext,
    readonly orgId: string,
    readonly userId: string,
    readonly status: 'active' | 'inactive',
    readonly reason: string | null,
    readonly expectedRevision?: bigint,
  ) {}
}
export class DeleteUser {
  constructor(
    readonly ctx: CommandContext,
    readonly orgId: string,
    readonly userId: string,
    readonly expectedRevision?: bigint,
  ) {}
}
export class ChangeMembership {
  constructor(
    readonly ctx: CommandContext,
    readonly orgId: string,
    readonly userId: string,
    readonly teamId: string,
    readonly join: boolean,
  ) {}
}

/** What every directory command answers. */
export interface DirectoryCommandResult {
  id: string;
  /** Global position of the last event appended (or the current one when nothing changed). */
  position: string;
  /** The entity's revision after the command (If-Match for the next update). */
  revision: string;
  /** Names of the events appended. */
  events: string[];
}
