import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { EVENT_STORE, EventStore } from '@purser/core';
import { Api, TestServer, apiClient } from '@purser/testkit';
import { StartServer } from './sign-in.api';

const OWNER_PASSWORD = 'correct horse battery staple 42';
const BOB_PASSWORD = 'a long and unusual phrase for bob';

/** The access events appended to a stream since `from`. */
async function eventsOf(server: TestServer, streamId: string) {
  const store = server.app.get<EventStore>(EVENT_STORE);
  return (await store.readStream(streamId)).map((e) => ({
    type: e.type,
    data: e.data as any,
    actor: e.metadata.actor,
  }));
}

/** Members, lockout, deactivation, passwords and sessions: on whichever engines `start` uses. */
export function accountsApiSpec(start: StartServer) {
  describe('accounts: members, lockout, deactivation, passwords and sessions', () => {
    let server: TestServer;
    let owner: Api;
    let orgId: string;
    let bobId: string;
    const login = (password: string, username = 'bob') =>
      server.anonymous.post('/v1/auth/login', { orgId, username, password });
    const as = (token: string) => apiClient(server.url, { authorization: `Bearer ${token}` });

    beforeAll(async () => {
      server = await start({
        PURSER_LOCKOUT_THRESHOLD: '3',
        PURSER_LOCKOUT_S: '600',
        PURSER_AUTH_RATE_LIMIT: '1000',
      });
      const token = readFileSync(join(server.dataDir, 'setup-token'), 'utf8').trim();
      const setup = await server.anonymous.post('/v1/setup', {
        token,
        org: { name: 'Acme' },
        owner: { username: 'ada', email: 'ada@acme.test', password: OWNER_PASSWORD },
      });
      orgId = setup.body.orgId;
      owner = as(setup.body.accessToken);
      bobId = (await owner.post(`/v1/orgs/${orgId}/users`, { username: 'bob', email: 'bob@acme.test' })).body
        .id;
    });
    afterAll(async () => {
      await server?.stop();
      server?.cleanup();
    });

    it('given a member without a password, when an admin sets a weak one, then 422 naming the field; a strong one lets bob sign in', async () => {
      expect((await login(BOB_PASSWORD)).status).toBe(401);
      const weak = await owner.put(`/v1/orgs/${orgId}/users/${bobId}/password`, {
        password: 'bob@acme.test1',
      });
      expect(weak.status).toBe(422);
      expect(weak.body.details[0]).toMatchObject({ field: 'password', problem: 'weak' });
      expect(JSON.stringify(weak.body)).not.toContain('bob@acme.test1');
      const set = await owner.put(`/v1/orgs/${orgId}/users/${bobId}/password`, { password: BOB_PASSWORD });
      expect(set.status).toBe(200);
      const signedIn = await login(BOB_PASSWORD);
      expect(signedIn.status).toBe(200);
      const me = await as(signedIn.body.accessToken).get('/v1/me');
      expect(me.body).toMatchObject({ username: 'bob', instanceAdmin: false });
      // last_login is kept from the sign-in events, on the directory's user.
      const user = await owner.get(
        `/v1/orgs/${orgId}/users/${bobId}?minPosition=${(await server.app.get<EventStore>(EVENT_STORE).headPosition()).toString()}`,
      );
      expect(user.body.lastLogin).toEqual(expect.any(String));
    });

    it('given bob signed in, when he is a member, then he cannot create orgs (only the instance administrator may)', async () => {
      const bob = as((await login(BOB_PASSWORD)).body.accessToken);
      const created = await bob.post('/v1/orgs', { name: 'Bob Corp' });
      expect(created.status).toBe(403);
      const list = await bob.get('/v1/orgs');
      expect(list.body.items.map((o: { id: string }) => o.id)).toEqual([orgId]);
    });

    it('given three wrong passwords, when bob signs in, then the account locks (an event), the right password is refused, and an admin unlock lets him in', async () => {
      for (let i = 0; i < 3; i++) expect((await login('wrong password number ' + i)).status).toBe(401);
      const refused = await login(BOB_PASSWORD);
      expect(refused.status).toBe(401);
      const events = await eventsOf(server, `credential-${bobId}`);
      const locked = events.filter((e) => e.type === 'AccountLocked');
      expect(locked).toHaveLength(1);
      expect(events.filter((e) => e.type === 'SignInFailed').map((e) => e.data.reason)).toEqual([
        'no-password', // the first test's attempt before bob had a password
        'password',
        'password',
        'password',
        'locked',
      ]);
      expect(events.find((e) => e.type === 'SignInFailed')!.data.origin.ip).toEqual(expect.any(String));
      const unlock = await owner.post(`/v1/orgs/${orgId}/users/${bobId}/unlock`);
      expect(unlock.status).toBe(200);
      expect(unlock.body).toEqual({ unlocked: true });
      const unlocked = (await eventsOf(server, `credential-${bobId}`)).find(
        (e) => e.type === 'AccountUnlocked',
      );
      expect(unlocked!.actor).toMatchObject({ type: 'user' });
      expect((await login(BOB_PASSWORD)).status).toBe(200);
    });

    it('given bob signed in twice, when he changes his password, then his other session ends and the old password no longer works', async () => {
      const first = await login(BOB_PASSWORD);
      const second = await login(BOB_PASSWORD);
      const bob = as(second.body.accessToken);
      const sessions = await bob.get('/v1/me/sessions');
      expect(sessions.body.items.some((s: { current: boolean }) => s.current)).toBe(true);
      const wrong = await bob.post('/v1/me/password', {
        currentPassword: 'not it at all',
        newPassword: 'another long phrase for bob 7',
      });
      expect(wrong.status).toBe(401);
      const changed = await bob.post('/v1/me/password', {
        currentPassword: BOB_PASSWORD,
        newPassword: 'another long phrase for bob 7',
      });
      expect(changed.status).toBe(200);
      expect(changed.body.sessionsEnded).toBeGreaterThanOrEqual(1);
      expect((await as(first.body.accessToken).get('/v1/me')).status).toBe(401);
      expect((await bob.get('/v1/me')).status).toBe(200);
      expect((await login(BOB_PASSWORD)).status).toBe(401);
      expect((await login('another long phrase for bob 7')).status).toBe(200);
      await owner.put(`/v1/orgs/${orgId}/users/${bobId}/password`, { password: BOB_PASSWORD });
    });

    it('given bob signed in, when he changes his display name and email at /v1/me, then the directory says so; an email in use is 409', async () => {
      const bob = as((await login(BOB_PASSWORD)).body.accessToken);
      const changed = await bob.patch('/v1/me', { displayName: 'Bob B.', email: 'bob.b@acme.test' });
      expect(changed.status).toBe(200);
      expect(changed.body).toMatchObject({
        displayName: 'Bob B.',
        email: 'bob.b@acme.test',
        username: 'bob',
      });
      const taken = await bob.patch('/v1/me', { email: 'ada@acme.test' });
      expect(taken.status).toBe(409);
      expect((await bob.get('/v1/me')).body.email).toBe('bob.b@acme.test');
    });

    it("given bob's sessions, when an admin lists and ends one, then that session's token is refused", async () => {
      const signedIn = await login(BOB_PASSWORD);
      const list = await owner.get(`/v1/orgs/${orgId}/users/${bobId}/sessions`);
      expect(list.status).toBe(200);
      const session = list.body.items.find(
        (s: { sessionId: string }) => s.sessionId === signedIn.body.sessionId,
      );
      expect(session).toMatchObject({ method: 'password', current: false });
      const ended = await owner.delete(
        `/v1/orgs/${orgId}/users/${bobId}/sessions/${signedIn.body.sessionId}`,
      );
      expect(ended.status).toBe(204);
      expect((await as(signedIn.body.accessToken).get('/v1/me')).status).toBe(401);
      expect((await owner.delete(`/v1/orgs/${orgId}/users/${bobId}/sessions/no-such-session`)).status).toBe(
        404,
      );
    });

    it('given bob signed in, when an admin deactivates him, then his very next request is 401 and he cannot sign in', async () => {
      const signedIn = await login(BOB_PASSWORD);
      const bob = as(signedIn.body.accessToken);
      expect((await bob.get('/v1/me')).status).toBe(200);
      expect((await owner.post(`/v1/orgs/${orgId}/users/${bobId}/deactivate`, {})).status).toBe(200);
      expect((await bob.get('/v1/me')).status).toBe(401);
      expect(
        (await server.anonymous.post('/v1/auth/refresh', { refreshToken: signedIn.body.refreshToken }))
          .status,
      ).toBe(401);
      expect((await login(BOB_PASSWORD)).status).toBe(401);
    });

    it('given an API key or the break-glass token, when calling /v1/me, then 403: only a signed-in user has a "me"', async () => {
      const res = await server.api.get('/v1/me');
      expect(res.status).toBe(403);
    });
  });

  describe('sign-in rate limit', () => {
    let server: TestServer;
    beforeAll(async () => {
      server = await start({ PURSER_AUTH_RATE_LIMIT: '3' });
    });
    afterAll(async () => {
      await server?.stop();
      server?.cleanup();
    });

    it('given more sign-ins from one address than the limit, then 429 with Retry-After in the one error shape', async () => {
      const body = { orgId: 'o1', username: 'nobody', password: 'whatever it is' };
      const answers = [];
      for (let i = 0; i < 4; i++) answers.push(await server.anonymous.post('/v1/auth/login', body));
      expect(answers.slice(0, 3).map((a) => a.status)).toEqual([401, 401, 401]);
      expect(answers[3].status).toBe(429);
      expect(answers[3].body).toMatchObject({ statusCode: 429, error: 'Too Many Requests' });
      expect(Number(answers[3].headers.get('retry-after'))).toBeGreaterThan(0);
    });
  });
}
