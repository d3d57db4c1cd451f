import { CommandContext } from '@purser/core';
import { RequestOrigin } from '../events';

export type SignInName = { username: string } | { email: string };

export class SignIn {
  constructor(
    readonly ctx: CommandContext,
    readonly input: { orgId: string; name: SignInName; password: string; origin: RequestOrigin },
  ) {}
}

export class RefreshSession {
  constructor(
    readonly ctx: CommandContext,
    readonly input: { refreshToken: string },
  ) {}
}

export class EndSession {
  constructor(
    readonly ctx: CommandContext,
    /** `userId`: the session must be this user's (a user ending their own); absent for an administrator. */
    readonly input: { orgId: string; sessionId: string; userId?: string; reason: 'logout' | 'revoked' },
  ) {}
}

export class ChangePassword {
  constructor(
    readonly ctx: CommandContext,
    readonly input: {
      orgId: string;
      userId: string;
      sessionId?: string;
      currentPassword: string;
      newPassword: string;
    },
  ) {}
}

export class SetUserPassword {
  constructor(
    readonly ctx: CommandContext,
    readonly input: { orgId: string; userId: string; password: string },
  ) {}
}

export class UnlockAccount {
  constructor(
    readonly ctx: CommandContext,
    readonly input: { orgId: string; userId: string },
  ) {}
}

export class SetUp {
  constructor(
    readonly ctx: CommandContext,
    readonly input: {
      token: string;
      org: Record<string, unknown>;
      owner: { username: string; email: string; password: string };
      origin: RequestOrigin;
    },
  ) {}
}
