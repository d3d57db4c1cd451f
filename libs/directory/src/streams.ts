import { createHash } from 'node:crypto';
import { ClaimKind } from './events';

/** Stream names come from here, never typed inline. */
export const Streams = {
  org: (orgId: string) => `org-${orgId}`,
  /** The org's team tree: every team of one org in one stream, so moves are checked for cycles atomically. */
  teams: (orgId: string) => `teams-${orgId}`,
  user: (userId: string) => `user-${userId}`,
  claim: (kind: ClaimKind, normalizedValue: string) =>
    `claim-${kind}-${createHash('sha256').update(normalizedValue).digest('hex').slice(0, 40)}`,
} as const;

export const DIRECTORY_STREAM_PREFIXES = ['org-', 'teams-', 'user-'];

/** How unique values compare: case-insensitive, trimmed, Unicode-normalized. */
export function normalizeUnique(value: string): string {
  return value.normalize('NFKC').trim().toLowerCase();
}
