import { CommandContext, CommandExecutor, NotFoundError } from '@purser/core';
import { DirectoryLookup, LiveUser } from '@purser/directory';
import { credentialDecider } from './credentials/credential.decider';
import { PasswordReason } from './events';
import { Passwords } from './credentials/passwords';
import { AccessStreams } from './streams';

/** The user of a `self` route (or of an org's user route): 404 when gone or in another org. */
export async function userIn(directory: DirectoryLookup, orgId: string, userId: string): Promise<LiveUser> {
  const user = await directory.user(userId);
  if (!user || user.orgId !== orgId)
    throw new NotFoundError(`user ${userId} not found`, [{ field: 'userId', problem: 'unknown' }]);
  return user;
}

/** Judges a new password (422 when weak, never echoing it), hashes it and records PasswordSet on the user's stream. */
export async function storePassword(
  executor: CommandExecutor,
  passwords: Passwords,
  ctx: CommandContext,
  user: LiveUser,
  password: string,
  field: string,
  reason: PasswordReason,
): Promise<void> {
  const strong = passwords.assertStrong(password, field, [user.username, user.email, user.displayName ?? '']);
  const hash = await passwords.hash(strong);
  await executor.execute(
    AccessStreams.credential(user.userId),
    credentialDecider,
    { type: 'SetPassword', userId: user.userId, orgId: user.orgId, hash, reason },
    ctx,
    { orgId: user.orgId },
  );
}
