import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { Api, TestServer, apiClient } from './app';

/** A user signed in by password, and what the test needs to act as it (or to check none of it leaks). */
export interface SignedIn {
  orgId: string;
  userId: string;
  username: string;
  password: string;
  accessToken: string;
  refreshToken: string;
  /** A client that sends `Authorization: Bearer <accessToken>`. */
  api: Api;
}

/** A password zxcvbn accepts, different on every call (words and a random tail). */
export function strongPassword(): string {
  return `violet tractor moonlit ${randomBytes(6).toString('hex')} harbour`;
}

function expectStatus(what: string, res: { status: number; body: unknown }, status: number): void {
  if (res.status !== status)
    throw new Error(`${what}: expected ${status}, got ${res.status} ${JSON.stringify(res.body)}`);
}

/**
 * Sets a fresh instance up the way an operator does: the one-time token from <dataDir>/setup-token, POST /v1/setup
 * with the first org and its owner. The owner is the instance administrator, signed in.
 */
export async function setUpInstance(
  server: TestServer,
  o: { orgName?: string; username?: string; password?: string } = {},
): Promise<SignedIn & { setupToken: string }> {
  const setupToken = readFileSync(join(server.dataDir, 'setup-token'), 'utf8').trim();
  const username = o.username ?? 'owner';
  const password = o.password ?? strongPassword();
  const res = await server.anonymous.post('/v1/setup', {
    token: setupToken,
    org: { name: o.orgName ?? 'First org', baseCurrency: 'EUR', timeZone: 'UTC' },
    owner: { username, email: `${username}@first.test`, password },
  });
  expectStatus('POST /v1/setup', res, 201);
  const { orgId, userId, accessToken, refreshToken } = res.body;
  return {
    setupToken,
    orgId,
    userId,
    username,
    password,
    accessToken,
    refreshToken,
    api: apiClient(server.url, { authorization: `Bearer ${accessToken}` }),
  };
}

/** Signs a user of `orgId` in with a password (POST /v1/auth/login). */
export async function signIn(
  server: TestServer,
  user: { orgId: string; userId: string; username: string; password: string },
): Promise<SignedIn> {
  const res = await server.anonymous.post('/v1/auth/login', {
    orgId: user.orgId,
    username: user.username,
    password: user.password,
  });
  expectStatus(`POST /v1/auth/login as ${user.username}`, res, 200);
  const { accessToken, refreshToken } = res.body;
  return {
    ...user,
    accessToken,
    refreshToken,
    api: apiClient(server.url, { authorization: `Bearer ${accessToken}` }),
  };
}

/**
 * A user of an org, signed in by password: `admin` (an instance administrator's client, e.g. the setup owner's or
 * the break-glass `server.api`) creates the user (and the org first, when no `orgId` is given), sets the user's
 * password (PUT /v1/orgs/:orgId/users/:userId/password) and the user signs in. The user is no instance
 * administrator: it acts in its own org only.
 */
export async function signedInOrg(
  server: TestServer,
  admin: Api = server.api,
  o: { orgId?: string; orgName?: string; username?: string; password?: string } = {},
): Promise<SignedIn> {
  let orgId = o.orgId;
  if (!orgId) {
    const org = await admin.post('/v1/orgs', {
      name: o.orgName ?? `Org ${randomBytes(3).toString('hex')}`,
      baseCurrency: 'EUR',
      timeZone: 'UTC',
    });
    expectStatus('POST /v1/orgs', org, 201);
    orgId = org.body.id as string;
  }
  const username = o.username ?? `member-${randomBytes(3).toString('hex')}`;
  const password = o.password ?? strongPassword();
  // The first user of an org made here is its owner (an assignment); one added to a given org is a member.
  const user = await admin.post(`/v1/orgs/${orgId}/users`, { username, email: `${username}@member.test` });
  expectStatus(`POST /v1/orgs/${orgId}/users`, user, 201);
  const userId = user.body.id as string;
  if (!o.orgId) {
    const owner = await admin.put(`/v1/orgs/${orgId}/role-assignments`, {
      principal: { type: 'user', id: userId },
      roleId: 'owner',
      scope: { type: 'org' },
    });
    expectStatus(`PUT /v1/orgs/${orgId}/role-assignments (owner)`, owner, 200);
  }
  const set = await admin.put(`/v1/orgs/${orgId}/users/${userId}/password`, { password });
  expectStatus(`PUT /v1/orgs/${orgId}/users/${userId}/password`, set, 200);
  return signIn(server, { orgId, userId, username, password });
}
