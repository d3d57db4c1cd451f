import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { EVENT_STORE, EventStore } from '@purser/core';
import { Api, TestServer, apiClient } from '@purser/testkit';

export type StartServer = (env: Record<string, string>) => Promise<TestServer>;

const PASSWORD = 'correct horse battery staple 42';

async function setUp(server: TestServer) {
  const token = readFileSync(join(server.dataDir, 'setup-token'), 'utf8').trim();
  return server.anonymous.post('/v1/setup', {
    token,
    org: { name: 'Acme', baseCurrency: 'EUR', timeZone: 'Europe/Paris' },
    owner: { username: 'ada', email: 'ada@acme.test', password: PASSWORD },
  });
}

/** Setup, password sign-in, refresh rotation and reuse, sign-out, JWKS: on whichever engines `start` uses. */
export function signInApiSpec(start: StartServer) {
  describe('sign-in: setup, password sign-in, sessions', () => {
    let server: TestServer;
    let owner: Api;
    let orgId: string;
    let setup: any;

    beforeAll(async () => {
      server = await start({ PURSER_LOCKOUT_THRESHOLD: '3', PURSER_LOCKOUT_S: '600' });
      setup = await setUp(server);
      orgId = setup.body.orgId;
      owner = apiClient(server.url, { authorization: `Bearer ${setup.body.accessToken}` });
    });
    afterAll(async () => {
      await server?.stop();
      server?.cleanup();
    });

    it('given a fresh data directory, when set up with the token, then 201 with the org, the owner and tokens; the token file is gone and a second setup is refused', async () => {
      expect(setup.status).toBe(201);
      expect(setup.body).toEqual(
        expect.objectContaining({
          orgId: expect.any(String),
          userId: expect.any(String),
          accessToken: expect.any(String),
        }),
      );
      expect(setup.body.refreshToken).toMatch(/^prt_/);
      expect(() => statSync(join(server.dataDir, 'setup-token'))).toThrow();
      const again = await server.anonymous.post('/v1/setup', {
        token: 'pst_whatever_whatever_whatever_whatever_whatever',
        org: { name: 'Other' },
        owner: { username: 'eve', email: 'eve@x.test', password: PASSWORD },
      });
      expect(again.status).toBe(409);
    });

    it('given the owner, when asking who am I, then the owner of the org and the instance administrator', async () => {
      const me = await owner.get('/v1/me');
      expect(me.status).toBe(200);
      expect(me.body).toMatchObject({ username: 'ada', orgId, instanceAdmin: true, mfaEnabled: false });
    });

    it('given no credential or a bad one, when calling /v1, then 401 in the one error shape', async () => {
      const none = await server.anonymous.get(`/v1/orgs/${orgId}`);
      expect(none.status).toBe(401);
      expect(none.body).toMatchObject({ statusCode: 401, error: 'Unauthorized' });
      const bad = await apiClient(server.url, { authorization: 'Bearer nonsense' }).get(`/v1/orgs/${orgId}`);
      expect(bad.status).toBe(401);
    });

    it('given a member with a password, when signing in by username and by email, then tokens that read their org', async () => {
      const created = await owner.post(`/v1/orgs/${orgId}/users`, {
        username: 'bob',
        email: 'bob@acme.test',
      });
      expect(created.status).toBe(201);
      // An administrator sets no passwords through the API in this issue: the owner's own path is exercised here.
      const login = await server.anonymous.post('/v1/auth/login', {
        orgId,
        username: 'ada',
        password: PASSWORD,
      });
      expect(login.status).toBe(200);
      expect(login.body).toMatchObject({ tokenType: 'Bearer', expiresIn: 900 });
      const byEmail = await server.anonymous.post('/v1/auth/login', {
        orgId,
        email: 'ADA@acme.test',
        password: PASSWORD,
      });
      expect(byEmail.status).toBe(200);
      const api = apiClient(server.url, { authorization: `Bearer ${login.body.accessToken}` });
      expect((await api.get(`/v1/orgs/${orgId}`)).status).toBe(200);
    });

    it('given a wrong password or an unknown user, when signing in, then the same 401', async () => {
      const wrong = await server.anonymous.post('/v1/auth/login', {
        orgId,
        username: 'ada',
        password: 'not the password',
      });
      const unknown = await server.anonymous.post('/v1/auth/login', {
        orgId,
        username: 'nobody',
        password: PASSWORD,
      });
      expect(wrong.status).toBe(401);
      expect(unknown.status).toBe(401);
      expect(unknown.body).toEqual(wrong.body);
    });

    it('given a refresh token, when used, then new tokens; when used again, then 401 and its whole session ends', async () => {
      const login = await server.anonymous.post('/v1/auth/login', {
        orgId,
        username: 'ada',
        password: PASSWORD,
      });
      const first = await server.anonymous.post('/v1/auth/refresh', {
        refreshToken: login.body.refreshToken,
      });
      expect(first.status).toBe(200);
      expect(first.body.refreshToken).not.toBe(login.body.refreshToken);
      const reused = await server.anonymous.post('/v1/auth/refresh', {
        refreshToken: login.body.refreshToken,
      });
      expect(reused.status).toBe(401);
      // The family is revoked: the newest refresh token and its access token are refused too.
      const newest = await server.anonymous.post('/v1/auth/refresh', {
        refreshToken: first.body.refreshToken,
      });
      expect(newest.status).toBe(401);
      const api = apiClient(server.url, { authorization: `Bearer ${first.body.accessToken}` });
      expect((await api.get('/v1/me')).status).toBe(401);
    });

    it('given a session, when signing out, then its access token is refused on the next request', async () => {
      const login = await server.anonymous.post('/v1/auth/login', {
        orgId,
        username: 'ada',
        password: PASSWORD,
      });
      const api = apiClient(server.url, { authorization: `Bearer ${login.body.accessToken}` });
      expect((await api.post('/v1/auth/logout')).status).toBe(204);
      expect((await api.get('/v1/me')).status).toBe(401);
    });

    it('given the JWKS endpoint, when read without a credential, then the public signing keys', async () => {
      const jwks = await server.anonymous.get('/.well-known/jwks.json');
      expect(jwks.status).toBe(200);
      expect(jwks.body.keys[0]).toMatchObject({ kty: 'OKP', crv: 'Ed25519', alg: 'EdDSA' });
      expect(jwks.body.keys[0].d).toBeUndefined();
    });
  });

  describe('setup refusals', () => {
    let server: TestServer;
    beforeAll(async () => {
      server = await start({});
    });
    afterAll(async () => {
      await server?.stop();
      server?.cleanup();
    });

    it('given a wrong token or a weak owner password, when setting up, then 401 / 422 and nothing is written; then the right request works', async () => {
      const store = server.app.get<EventStore>(EVENT_STORE);
      const before = await store.headPosition();
      const token = readFileSync(join(server.dataDir, 'setup-token'), 'utf8').trim();
      const body = (t: string, password: string) => ({
        token: t,
        org: { name: 'Acme' },
        owner: { username: 'ada', email: 'ada@acme.test', password },
      });
      const wrong = await server.anonymous.post('/v1/setup', body('pst_' + 'x'.repeat(43), PASSWORD));
      expect(wrong.status).toBe(401);
      const weak = await server.anonymous.post('/v1/setup', body(token, 'ada@acme.test'));
      expect(weak.status).toBe(422);
      expect(weak.body.details[0]).toMatchObject({ field: 'owner.password' });
      expect(await store.headPosition()).toBe(before);
      expect((await server.anonymous.post('/v1/setup', body(token, PASSWORD))).status).toBe(201);
    });
  });
}
