import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { CommandExecutor, SYSTEM_ACTOR, uuidv7 } from '@purser/core';
import {
  Api,
  Mailpit,
  TestServer,
  apiClient,
  describeMail,
  startTestServer,
  uniqueSuffix,
} from '@purser/testkit';
import { credentialDecider } from '../credentials/credential.decider';
import { KeyMaterial, randomSecret } from '../key-material';
import { PasswordResetMailer, RESET_PREFIX } from './reset';
import { AccessStreams } from '../streams';
import { composeToken } from '../tokens';

const PASSWORD = 'correct horse battery staple 42';
const NEW_PASSWORD = 'velvet tractor orbit cactus 77';
const PUBLIC_URL = 'https://console.purser.test';
const FROM = 'Purser Resets <resets@purser.test>';
const TOKEN = /prr_[A-Za-z0-9-]+_[A-Za-z0-9_-]+/;

async function setUp(server: TestServer) {
  const token = readFileSync(join(server.dataDir, 'setup-token'), 'utf8').trim();
  const res = await server.anonymous.post('/v1/setup', {
    token,
    org: { name: 'Acme', baseCurrency: 'EUR', timeZone: 'Europe/Paris' },
    owner: { username: 'ada', email: `ada-${uniqueSuffix()}@acme.test`, password: PASSWORD },
  });
  expect(res.status).toBe(201);
  return res.body as { orgId: string; userId: string; accessToken: string };
}

/** A member with a password: the admin creates them and sets it. */
async function member(server: TestServer, orgId: string, username: string) {
  const email = `${username}-${uniqueSuffix()}@acme.test`;
  const created = await server.api.post(`/v1/orgs/${orgId}/users`, { username, email });
  expect(created.status).toBe(201);
  const userId: string = created.body.id;
  const set = await server.api.put(`/v1/orgs/${orgId}/users/${userId}/password`, { password: PASSWORD });
  expect(set.status).toBe(200);
  return { userId, username, email };
}

const signIn = (server: TestServer, orgId: string, username: string, password: string) =>
  server.anonymous.post('/v1/auth/login', { orgId, username, password });

describeMail('password reset by mail (embedded engines, Mailpit)', ({ smtpUrl, mailpitUrl }) => {
  const mailpit = new Mailpit(mailpitUrl);
  let server: TestServer;
  let orgId: string;
  const settled = () => server.app.get(PasswordResetMailer, { strict: false }).settled();

  beforeAll(async () => {
    server = await startTestServer({
      env: {
        PURSER_SMTP_URL: smtpUrl,
        PURSER_MAIL_FROM: FROM,
        PURSER_PUBLIC_URL: PUBLIC_URL,
        PURSER_LOCKOUT_THRESHOLD: '2',
        PURSER_LOCKOUT_S: '600',
      },
    });
    orgId = (await setUp(server)).orgId;
  });
  afterAll(async () => {
    await server?.stop();
    server?.cleanup();
  });

  it('given a known user, an unknown one and an unknown org, when each asks for a reset, then the same 202; only the known user gets a mail', async () => {
    const bob = await member(server, orgId, 'bob');
    const ghost = `ghost-${uniqueSuffix()}@acme.test`;
    const known = await server.anonymous.post('/v1/auth/password-reset', { orgId, email: bob.email });
    const unknown = await server.anonymous.post('/v1/auth/password-reset', { orgId, email: ghost });
    const otherOrg = await server.anonymous.post('/v1/auth/password-reset', {
      orgId: uuidv7(),
      username: 'bob',
    });
    expect(known.status).toBe(202);
    expect(unknown.status).toBe(202);
    expect(otherOrg.status).toBe(202);
    expect(unknown.body).toEqual(known.body);
    expect(otherOrg.body).toEqual(known.body);
    await mailpit.waitForMessageTo(bob.email);
    await settled();
    expect(await mailpit.summariesTo(ghost)).toEqual([]);
    expect(await mailpit.summariesTo(bob.email)).toHaveLength(1);
  });

  it('given a reset asked for by username, then the mail comes from PURSER_MAIL_FROM with the link to the console and the token, in text and HTML', async () => {
    const cyd = await member(server, orgId, 'cyd');
    expect((await server.anonymous.post('/v1/auth/password-reset', { orgId, username: 'cyd' })).status).toBe(
      202,
    );
    const mail = await mailpit.waitForMessageTo(cyd.email);
    expect(`${mail.From.Name} <${mail.From.Address}>`).toBe(FROM);
    expect(mail.Subject).toBe('Reset your Purser password');
    const token = TOKEN.exec(mail.Text)?.[0];
    expect(token).toMatch(new RegExp(`^prr_${cyd.userId}_`));
    expect(mail.Text).toContain(`${PUBLIC_URL}/reset?token=${token}`);
    expect(mail.HTML).toContain(`href="${PUBLIC_URL}/reset?token=${token}"`);
  });

  it('given a user with two sessions and a lock, when the reset completes, then 204, the old sessions are refused, the lock is lifted, only the new password works, and the token works once', async () => {
    const dee = await member(server, orgId, 'dee');
    const first = await signIn(server, orgId, 'dee', PASSWORD);
    const second = await signIn(server, orgId, 'dee', PASSWORD);
    expect([first.status, second.status]).toEqual([200, 200]);
    const old = apiClient(server.url, { authorization: `Bearer ${first.body.accessToken}` });
    expect((await old.get('/v1/me')).status).toBe(200);
    // Two wrong passwords lock the account (threshold 2): even the right one is refused now.
    await signIn(server, orgId, 'dee', 'wrong password one');
    await signIn(server, orgId, 'dee', 'wrong password two');
    expect((await signIn(server, orgId, 'dee', PASSWORD)).status).toBe(401);

    await server.anonymous.post('/v1/auth/password-reset', { orgId, email: dee.email });
    const token = TOKEN.exec((await mailpit.waitForMessageTo(dee.email)).Text)![0];

    // A weak password is refused and spends nothing: the token still works afterwards.
    const weak = await server.anonymous.post('/v1/auth/password-reset/complete', {
      token,
      newPassword: 'password1',
    });
    expect(weak.status).toBe(422);
    expect(weak.body).toMatchObject({ statusCode: 422, details: [{ field: 'newPassword' }] });

    const done = await server.anonymous.post('/v1/auth/password-reset/complete', {
      token,
      newPassword: NEW_PASSWORD,
    });
    expect(done.status).toBe(204);

    expect((await old.get('/v1/me')).status).toBe(401);
    const other = apiClient(server.url, { authorization: `Bearer ${second.body.accessToken}` });
    expect((await other.get('/v1/me')).status).toBe(401);
    expect(
      (await server.anonymous.post('/v1/auth/refresh', { refreshToken: second.body.refreshToken })).status,
    ).toBe(401);
    expect((await signIn(server, orgId, 'dee', PASSWORD)).status).toBe(401);
    const fresh = await signIn(server, orgId, 'dee', NEW_PASSWORD);
    expect(fresh.status).toBe(200);

    const again = await server.anonymous.post('/v1/auth/password-reset/complete', {
      token,
      newPassword: 'another fine password 99',
    });
    expect(again.status).toBe(401);
    expect(again.body).toMatchObject({
      statusCode: 401,
      error: 'Unauthorized',
      details: [{ field: 'token', problem: 'invalid' }],
    });
    expect((await signIn(server, orgId, 'dee', NEW_PASSWORD)).status).toBe(200);
  });

  it('given two requests, when the older mail is used, then 401; the newer one works', async () => {
    const eve = await member(server, orgId, 'eve');
    await server.anonymous.post('/v1/auth/password-reset', { orgId, email: eve.email });
    const older = TOKEN.exec((await mailpit.waitForMessageTo(eve.email, 1)).Text)![0];
    await server.anonymous.post('/v1/auth/password-reset', { orgId, email: eve.email });
    const newer = TOKEN.exec((await mailpit.waitForMessageTo(eve.email, 2)).Text)![0];
    expect(newer).not.toBe(older);
    const complete = (token: string) =>
      server.anonymous.post('/v1/auth/password-reset/complete', { token, newPassword: NEW_PASSWORD });
    expect((await complete(older)).status).toBe(401);
    expect((await complete(newer)).status).toBe(204);
  });

  it('given a reset whose link expired, when it is used, then 401 and the password stays', async () => {
    const fay = await member(server, orgId, 'fay');
    // The server's clock is the system clock: the request is seeded as the handler records it, but already past.
    const keys = server.app.get(KeyMaterial, { strict: false });
    const secret = randomSecret();
    await server.app.get(CommandExecutor, { strict: false }).execute(
      AccessStreams.credential(fay.userId),
      credentialDecider,
      {
        type: 'RequestReset',
        userId: fay.userId,
        orgId,
        resetId: uuidv7(),
        tokenDigest: keys.digest(secret),
        expiresAt: new Date(Date.now() - 1000).toISOString(),
        origin: { ip: '127.0.0.1', userAgent: null },
      },
      { actor: SYSTEM_ACTOR, correlationId: uuidv7(), now: new Date(Date.now() - 1_801_000).toISOString() },
      { orgId },
    );
    const expired = await server.anonymous.post('/v1/auth/password-reset/complete', {
      token: composeToken(RESET_PREFIX, fay.userId, secret),
      newPassword: NEW_PASSWORD,
    });
    expect(expired.status).toBe(401);
    expect(expired.body).toMatchObject({ details: [{ field: 'token', problem: 'invalid' }] });
    expect((await signIn(server, orgId, 'fay', PASSWORD)).status).toBe(200);
  });

  it('given a made-up or malformed token, or a bad request, then 401 or 400 in the one error shape', async () => {
    const madeUp = await server.anonymous.post('/v1/auth/password-reset/complete', {
      token: composeToken(RESET_PREFIX, uuidv7(), randomSecret()),
      newPassword: NEW_PASSWORD,
    });
    expect(madeUp.status).toBe(401);
    const malformed = await server.anonymous.post('/v1/auth/password-reset/complete', {
      token: 'prr_nonsense',
      newPassword: NEW_PASSWORD,
    });
    expect(malformed.status).toBe(401);
    expect(malformed.body).toEqual(madeUp.body);
    const both = await server.anonymous.post('/v1/auth/password-reset', {
      orgId,
      username: 'bob',
      email: 'bob@acme.test',
    });
    expect(both.status).toBe(400);
    expect(both.body).toMatchObject({ statusCode: 400, details: [{ field: expect.any(String) }] });
  });
});

describe('password reset with mail off (embedded engines, no PURSER_SMTP_URL)', () => {
  let server: TestServer;
  let owner: Api;
  let setup: { orgId: string; userId: string; accessToken: string };

  beforeAll(async () => {
    server = await startTestServer({ env: { PURSER_SMTP_URL: undefined } });
    setup = await setUp(server);
    owner = apiClient(server.url, { authorization: `Bearer ${setup.accessToken}` });
  });
  afterAll(async () => {
    await server?.stop();
    server?.cleanup();
  });

  it('given mail off, when a known user asks for a reset, then the same 202, and no reset is recorded (no link could reach them)', async () => {
    const me = await owner.get('/v1/me');
    const res = await server.anonymous.post('/v1/auth/password-reset', {
      orgId: setup.orgId,
      email: me.body.email,
    });
    expect(res.status).toBe(202);
    expect(res.body).toMatchObject({ accepted: true });
    await server.app.get(PasswordResetMailer, { strict: false }).settled();
    const { state } = await server.app
      .get(CommandExecutor, { strict: false })
      .current(AccessStreams.credential(setup.userId), credentialDecider);
    expect(state.reset).toBeNull();
    expect(state.passwordHash).not.toBeNull();
  });
});
