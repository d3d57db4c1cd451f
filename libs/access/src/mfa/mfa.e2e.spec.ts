import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Secret, TOTP } from 'otpauth';
import { Api, TestServer, apiClient, startTestServer } from '@purser/testkit';

const PASSWORD = 'correct horse battery staple 42';

/** The code an authenticator app shows `steps` periods from now (1: the next one, which no enrolment spent yet). */
function codeOf(secret: string, steps = 0): string {
  return new TOTP({ secret: Secret.fromBase32(secret), algorithm: 'SHA1', digits: 6, period: 30 }).generate({
    timestamp: Date.now() + steps * 30_000,
  });
}

/** A code of this secret that is not the right one now (nor in the window around now). */
function wrongCodeOf(secret: string): string {
  const near = new Set([-1, 0, 1].map((s) => codeOf(secret, s)));
  for (let n = 0; ; n++) {
    const candidate = String(n).padStart(6, '0');
    if (!near.has(candidate)) return candidate;
  }
}

describe('MFA: TOTP enrolment, the second step of a sign-in, recovery codes, org policy (embedded engines)', () => {
  let server: TestServer;
  let owner: Api;
  let orgId: string;

  const as = (accessToken: string) => apiClient(server.url, { authorization: `Bearer ${accessToken}` });
  const login = (username: string, password = PASSWORD) =>
    server.anonymous.post('/v1/auth/login', { orgId, username, password });

  /** A user of the org with a password (and a role), signed in. */
  async function member(username: string, roleId?: string) {
    const created = await owner.post(`/v1/orgs/${orgId}/users`, { username, email: `${username}@acme.test` });
    expect(created.status).toBe(201);
    const userId: string = created.body.id;
    if (roleId) {
      const assigned = await owner.put(`/v1/orgs/${orgId}/role-assignments`, {
        principal: { type: 'user', id: userId },
        roleId,
        scope: { type: 'org' },
      });
      expect(assigned.status).toBe(200);
    }
    expect(
      (await owner.put(`/v1/orgs/${orgId}/users/${userId}/password`, { password: PASSWORD })).status,
    ).toBe(200);
    const signedIn = await login(username);
    expect(signedIn.status).toBe(200);
    return { userId, username, api: as(signedIn.body.accessToken) };
  }

  /** A signed-in user who enrolled and confirmed an authenticator app. */
  async function enrolled(username: string) {
    const m = await member(username);
    const started = await m.api.post('/v1/me/mfa/totp');
    expect(started.status).toBe(200);
    const confirmed = await m.api.post('/v1/me/mfa/totp/confirm', { code: codeOf(started.body.secret) });
    expect(confirmed.status).toBe(200);
    return {
      ...m,
      secret: started.body.secret as string,
      recoveryCodes: confirmed.body.recoveryCodes as string[],
    };
  }

  async function firstStep(username: string) {
    const step = await login(username);
    expect(step.status).toBe(200);
    expect(step.body).toMatchObject({ mfaRequired: true, mfaToken: expect.any(String) });
    return step.body.mfaToken as string;
  }

  beforeAll(async () => {
    server = await startTestServer({
      env: { PURSER_LOCKOUT_THRESHOLD: '3', PURSER_LOCKOUT_S: '600', PURSER_AUTH_RATE_LIMIT: '10000' },
    });
    const token = readFileSync(join(server.dataDir, 'setup-token'), 'utf8').trim();
    const setup = await server.anonymous.post('/v1/setup', {
      token,
      org: { name: 'Acme', baseCurrency: 'EUR', timeZone: 'Europe/Paris' },
      owner: { username: 'ada', email: 'ada@acme.test', password: PASSWORD },
    });
    expect(setup.status).toBe(201);
    orgId = setup.body.orgId;
    owner = as(setup.body.accessToken);
  });
  afterAll(async () => {
    await server?.stop();
    server?.cleanup();
  });

  it('given a signed-in user, when enrolling, then the secret, its otpauth URI and a PNG QR code; a wrong first code is 422 and MFA stays off; the right one turns it on with ten recovery codes', async () => {
    const carol = await member('carol');
    const started = await carol.api.post('/v1/me/mfa/totp');
    expect(started.status).toBe(200);
    expect(started.body.secret).toMatch(/^[A-Z2-7]{32}$/);
    expect(started.body.otpauthUri).toMatch(/^otpauth:\/\/totp\/Purser:carol\?/);
    const uri = new URL(started.body.otpauthUri);
    expect(uri.searchParams.get('issuer')).toBe('Purser');
    expect(uri.searchParams.get('secret')).toBe(started.body.secret);
    expect(uri.searchParams.get('digits')).toBe('6');
    expect(uri.searchParams.get('period')).toBe('30');
    expect(started.body.qrCode).toMatch(/^data:image\/png;base64,/);
    const png = Buffer.from(started.body.qrCode.split(',')[1], 'base64');
    expect(png.subarray(1, 4).toString('latin1')).toBe('PNG');

    const wrong = await carol.api.post('/v1/me/mfa/totp/confirm', { code: wrongCodeOf(started.body.secret) });
    expect(wrong.status).toBe(422);
    expect((await carol.api.get('/v1/me')).body.mfaEnabled).toBe(false);
    expect((await login('carol')).body).toMatchObject({ tokenType: 'Bearer' });

    const confirmed = await carol.api.post('/v1/me/mfa/totp/confirm', { code: codeOf(started.body.secret) });
    expect(confirmed.status).toBe(200);
    const codes: string[] = confirmed.body.recoveryCodes;
    expect(codes).toHaveLength(10);
    expect(new Set(codes).size).toBe(10);
    for (const c of codes) expect(c).toMatch(/^[a-z0-9]{4}-[a-z0-9]{4}-[a-z0-9]{4}$/);
    expect((await carol.api.get('/v1/me')).body.mfaEnabled).toBe(true);
    // With MFA on, enrolling again is refused, and so is a confirmation with nothing pending.
    expect((await carol.api.post('/v1/me/mfa/totp')).status).toBe(409);
    expect(
      (await carol.api.post('/v1/me/mfa/totp/confirm', { code: codeOf(started.body.secret, 1) })).status,
    ).toBe(409);
  });

  it('given a credential that is no user session (the break-glass token), when enrolling, then 403', async () => {
    expect((await server.api.post('/v1/me/mfa/totp')).status).toBe(403);
  });

  it('given MFA on, when signing in, then a second step; its mfa token is no bearer credential; a code completes it, and the same code a second time is refused', async () => {
    const dave = await enrolled('dave');
    const step = await login('dave');
    expect(step.status).toBe(200);
    expect(step.body).toEqual({
      mfaRequired: true,
      mfaToken: expect.any(String),
      methods: ['totp', 'recoveryCode'],
      expiresIn: 300,
    });
    expect(step.body.enrolmentRequired).toBeUndefined();
    const withMfaToken = as(step.body.mfaToken);
    expect((await withMfaToken.get('/v1/me')).status).toBe(401);
    expect((await withMfaToken.get(`/v1/orgs/${orgId}`)).status).toBe(401);
    expect((await withMfaToken.post('/v1/me/mfa/totp')).status).toBe(401);

    const code = codeOf(dave.secret, 1);
    const done = await server.anonymous.post('/v1/auth/mfa', { mfaToken: step.body.mfaToken, code });
    expect(done.status).toBe(200);
    expect(done.body).toMatchObject({ tokenType: 'Bearer', sessionId: expect.any(String) });
    expect(done.body.refreshToken).toMatch(/^prt_/);
    const me = await as(done.body.accessToken).get('/v1/me');
    expect(me.status).toBe(200);
    expect(me.body).toMatchObject({ username: 'dave', mfaEnabled: true, sessionId: done.body.sessionId });

    const again = await server.anonymous.post('/v1/auth/mfa', { mfaToken: await firstStep('dave'), code });
    expect(again.status).toBe(401);
    expect(again.body.details).toEqual([expect.objectContaining({ field: 'code', problem: 'used' })]);
  });

  it('given the second step, when neither or both of code and recoveryCode are given, or the token is forged, then 400 and 401', async () => {
    const erin = await enrolled('erin');
    const mfaToken = await firstStep('erin');
    expect((await server.anonymous.post('/v1/auth/mfa', { mfaToken })).status).toBe(400);
    const both = { mfaToken, code: codeOf(erin.secret, 1), recoveryCode: erin.recoveryCodes[0] };
    expect((await server.anonymous.post('/v1/auth/mfa', both)).status).toBe(400);
    const forged = await server.anonymous.post('/v1/auth/mfa', {
      mfaToken: `${mfaToken.slice(0, -4)}AAAA`,
      code: codeOf(erin.secret, 1),
    });
    expect(forged.status).toBe(401);
    // An access token is no mfa token either.
    const signedIn = await server.anonymous.post('/v1/auth/mfa', { mfaToken, code: codeOf(erin.secret, 1) });
    expect(signedIn.status).toBe(200);
    const swapped = await server.anonymous.post('/v1/auth/mfa', {
      mfaToken: signedIn.body.accessToken,
      code: codeOf(erin.secret, 1),
    });
    expect(swapped.status).toBe(401);
  });

  it('given MFA on, when completing with a recovery code, then signed in by recovery code; the same recovery code again is refused', async () => {
    const frank = await enrolled('frank');
    const done = await server.anonymous.post('/v1/auth/mfa', {
      mfaToken: await firstStep('frank'),
      recoveryCode: frank.recoveryCodes[3].toUpperCase(),
    });
    expect(done.status).toBe(200);
    const sessions = await as(done.body.accessToken).get('/v1/me/sessions');
    expect(sessions.body.items.find((s: any) => s.current)).toMatchObject({
      method: 'password+recovery-code',
    });
    const again = await server.anonymous.post('/v1/auth/mfa', {
      mfaToken: await firstStep('frank'),
      recoveryCode: frank.recoveryCodes[3],
    });
    expect(again.status).toBe(401);
    // The other codes still work.
    const other = await server.anonymous.post('/v1/auth/mfa', {
      mfaToken: await firstStep('frank'),
      recoveryCode: frank.recoveryCodes[4],
    });
    expect(other.status).toBe(200);
  });

  it('given MFA on, when wrong codes reach the lockout threshold, then the account is locked: the right code and the password are refused too', async () => {
    const gina = await enrolled('gina');
    const mfaToken = await firstStep('gina');
    for (let i = 0; i < 3; i++) {
      const wrong = await server.anonymous.post('/v1/auth/mfa', { mfaToken, code: wrongCodeOf(gina.secret) });
      expect(wrong.status).toBe(401);
    }
    const right = await server.anonymous.post('/v1/auth/mfa', { mfaToken, code: codeOf(gina.secret, 1) });
    expect(right.status).toBe(401);
    expect((await login('gina')).status).toBe(401);
    // An administrator lifts the lock: the next step succeeds.
    expect((await owner.post(`/v1/orgs/${orgId}/users/${gina.userId}/unlock`)).body).toEqual({
      unlocked: true,
    });
    const after = await server.anonymous.post('/v1/auth/mfa', {
      mfaToken: await firstStep('gina'),
      code: codeOf(gina.secret, 1),
    });
    expect(after.status).toBe(200);
  });

  it('given MFA on, when renewing recovery codes, then a wrong code is 422; with a right one the old codes stop working and the new ones work', async () => {
    const hugo = await enrolled('hugo');
    expect(
      (await hugo.api.post('/v1/me/mfa/recovery-codes', { code: wrongCodeOf(hugo.secret) })).status,
    ).toBe(422);
    const renewed = await hugo.api.post('/v1/me/mfa/recovery-codes', { code: codeOf(hugo.secret) });
    expect(renewed.status).toBe(200);
    expect(renewed.body.recoveryCodes).toHaveLength(10);
    expect(renewed.body.recoveryCodes).not.toContain(hugo.recoveryCodes[0]);
    const old = await server.anonymous.post('/v1/auth/mfa', {
      mfaToken: await firstStep('hugo'),
      recoveryCode: hugo.recoveryCodes[0],
    });
    expect(old.status).toBe(401);
    const fresh = await server.anonymous.post('/v1/auth/mfa', {
      mfaToken: await firstStep('hugo'),
      recoveryCode: renewed.body.recoveryCodes[0],
    });
    expect(fresh.status).toBe(200);
  });

  it('given MFA off, when renewing recovery codes, then 409', async () => {
    const ivan = await member('ivan');
    expect((await ivan.api.post('/v1/me/mfa/recovery-codes', { code: '123456' })).status).toBe(409);
  });

  it('given MFA on, when turning it off, then a wrong password is 422 and MFA stays on; the right one turns it off and the password alone signs in', async () => {
    const jane = await enrolled('jane');
    const wrong = await jane.api.raw('DELETE', '/v1/me/mfa', { password: 'not my password at all' });
    expect(wrong.status).toBe(422);
    expect((await jane.api.get('/v1/me')).body.mfaEnabled).toBe(true);
    const off = await jane.api.raw('DELETE', '/v1/me/mfa', { password: PASSWORD });
    expect(off.status).toBe(200);
    expect(off.body).toEqual({ mfaDisabled: true });
    expect((await jane.api.get('/v1/me')).body.mfaEnabled).toBe(false);
    const signedIn = await login('jane');
    expect(signedIn.body).toMatchObject({ tokenType: 'Bearer' });
  });

  it('given a user with MFA who lost the device, when an administrator resets it, then MFA is off and the user is signed out everywhere', async () => {
    const kim = await enrolled('kim');
    const reset = await owner.delete(`/v1/orgs/${orgId}/users/${kim.userId}/mfa`);
    expect(reset.status).toBe(200);
    expect(reset.body.mfaDisabled).toBe(true);
    expect(reset.body.sessionsEnded).toBeGreaterThanOrEqual(1);
    expect((await kim.api.get('/v1/me')).status).toBe(401);
    const signedIn = await login('kim');
    expect(signedIn.body).toMatchObject({ tokenType: 'Bearer' });
    expect((await as(signedIn.body.accessToken).get('/v1/me')).body.mfaEnabled).toBe(false);
    expect((await owner.delete(`/v1/orgs/${orgId}/users/nobody-here/mfa`)).status).toBe(404);
  });

  it("given an org's MFA policy, when set to admins and then everyone, then users it asks for MFA enrol at sign-in and get recovery codes and tokens; others sign in as before", async () => {
    expect((await owner.get(`/v1/orgs/${orgId}/mfa-policy`)).body).toEqual({ orgId, required: 'none' });
    expect((await owner.put(`/v1/orgs/${orgId}/mfa-policy`, { required: 'sometimes' })).status).toBe(400);
    const leo = await member('leo', 'admin');
    await member('mia');
    const set = await owner.put(`/v1/orgs/${orgId}/mfa-policy`, { required: 'admins' });
    expect(set.status).toBe(200);
    expect(set.body).toEqual({ orgId, required: 'admins' });
    expect((await owner.get(`/v1/orgs/${orgId}/mfa-policy`)).body.required).toBe('admins');

    expect((await login('mia')).body).toMatchObject({ tokenType: 'Bearer' });
    const step = await login('leo');
    expect(step.body).toMatchObject({
      mfaRequired: true,
      enrolmentRequired: true,
      mfaToken: expect.any(String),
    });
    // The enrolment token is no credential, and no code can complete a sign-in without MFA.
    expect((await as(step.body.mfaToken).get('/v1/me')).status).toBe(401);
    const started = await server.anonymous.post('/v1/auth/mfa/enrol', { mfaToken: step.body.mfaToken });
    expect(started.status).toBe(200);
    expect(started.body.otpauthUri).toMatch(/^otpauth:\/\/totp\/Purser:leo\?/);
    const wrong = await server.anonymous.post('/v1/auth/mfa/enrol/confirm', {
      mfaToken: step.body.mfaToken,
      code: wrongCodeOf(started.body.secret),
    });
    expect(wrong.status).toBe(422);
    const done = await server.anonymous.post('/v1/auth/mfa/enrol/confirm', {
      mfaToken: step.body.mfaToken,
      code: codeOf(started.body.secret),
    });
    expect(done.status).toBe(200);
    expect(done.body.recoveryCodes).toHaveLength(10);
    expect(done.body).toMatchObject({ tokenType: 'Bearer', sessionId: expect.any(String) });
    expect((await as(done.body.accessToken).get('/v1/me')).body).toMatchObject({
      username: 'leo',
      mfaEnabled: true,
    });
    expect(leo.userId).toBeDefined();
    // Enrolled now: the next sign-in asks for a code, and the enrolment route refuses.
    const next = await login('leo');
    expect(next.body).toMatchObject({ mfaRequired: true, methods: ['totp', 'recoveryCode'] });
    expect(next.body.enrolmentRequired).toBeUndefined();
    expect((await server.anonymous.post('/v1/auth/mfa/enrol', { mfaToken: next.body.mfaToken })).status).toBe(
      409,
    );

    expect((await owner.put(`/v1/orgs/${orgId}/mfa-policy`, { required: 'everyone' })).status).toBe(200);
    expect((await login('mia')).body).toMatchObject({ mfaRequired: true, enrolmentRequired: true });
    expect((await owner.put(`/v1/orgs/${orgId}/mfa-policy`, { required: 'none' })).status).toBe(200);
    expect((await login('mia')).body).toMatchObject({ tokenType: 'Bearer' });
  });
});
