import { randomBytes } from 'node:crypto';

/**
 * The bench servers authenticate like every server: the suites start them with a break-glass token
 * (PURSER_ADMIN_TOKEN) and send it as `Authorization: Bearer`. One token per bench run, kept in the environment so
 * that forked generators and servers (which inherit it) share it.
 */
export const BENCH_ADMIN_TOKEN: string =
  (process.env.PURSER_BENCH_ADMIN_TOKEN ??= `bench-break-glass-${randomBytes(16).toString('hex')}`);

/** What a bench server's environment needs so the token is a credential. */
export function adminEnv(): { PURSER_ADMIN_TOKEN: string } {
  return { PURSER_ADMIN_TOKEN: BENCH_ADMIN_TOKEN };
}

/** The Authorization header value for a credential (the break-glass token by default). */
export function bearer(credential: string = BENCH_ADMIN_TOKEN): string {
  return `Bearer ${credential}`;
}
