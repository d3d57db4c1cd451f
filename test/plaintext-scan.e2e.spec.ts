import { appendFileSync, mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import * as OTPAuth from 'otpauth';
import { createLogger, loadConfig } from '@purser/platform';
import {
  SignedIn,
  TestServer,
  apiClient,
  setUpInstance,
  signIn,
  signedInOrg,
  strongPassword,
} from '@purser/testkit';
import { startOrgServer } from '../apps/org-server/src/server';

/**
 * No secret at rest or in the logs: a server (embedded engines, LOG_LEVEL=debug, every log line to a file) goes
 * through setup, sign-ins, wrong passwords, refreshes (and a reused refresh token), a password change and an
 * administrator setting a password. Every secret the test sent or received is then looked for in every row of the
 * SQLite event store and read store, in their raw files (WAL included: pages a row left behind), and in the logs.
 * The one exception is the contract of first start: the setup token is logged once, on its own line.
 */

const SETUP_LINE = /^this instance is not set up: POST \/v1\/setup/;

/** The forms a leaked secret could take: as sent, JSON-escaped, base64 and hex. */
function formsOf(secret: string): string[] {
  const buf = Buffer.from(secret, 'utf8');
  return [
    secret,
    JSON.stringify(secret).slice(1, -1),
    buf.toString('base64'),
    buf.toString('base64url'),
    buf.toString('hex'),
  ];
}

/** The secret parts of a token: the whole, and for `<prefix>_<id>_<secret>` or a JWT, the secret alone. */
function partsOf(token: string): string[] {
  const composed = /^[a-z]{3}_(?:[A-Za-z0-9-]{1,64}_)?([A-Za-z0-9_-]{32,128})$/.exec(token);
  const jwt = /^[\w-]+\.[\w-]+\.([\w-]{40,})$/.exec(token);
  return [token, ...(composed ? [composed[1]] : []), ...(jwt ? [jwt[1]] : [])];
}

/** Every row of every table of a SQLite file, as text (blobs as UTF-8). */
function rowsOf(file: string): string[] {
  const db = new Database(file, { readonly: true, fileMustExist: true });
  try {
    const tables = db
      .prepare<[], { name: string }>("SELECT name FROM sqlite_master WHERE type = 'table'")
      .all()
      .map((t) => t.name);
    const rows: string[] = [];
    for (const table of tables)
      for (const row of db.prepare(`SELECT * FROM "${table.replace(/"/g, '""')}"`).all() as object[])
        rows.push(
          `${table}: ` +
            Object.values(row)
              .map((v) => (Buffer.isBuffer(v) ? v.toString('utf8') : String(v)))
              .join(' | '),
        );
    return rows;
  } finally {
    db.close();
  }
}

describe('no secret in plain text: event store, read store, logs (embedded engines)', () => {
  const secrets = new Map<string, string>(); // form -> what it is
  const keep = (what: string, secret: string) => {
    for (const part of partsOf(secret)) for (const form of formsOf(part)) secrets.set(form, what);
  };
  let dataDir: string;
  let logFile: string;
  let logs: string[];
  let setupToken: string;
  let owner: SignedIn & { setupToken: string };

  beforeAll(async () => {
    dataDir = mkdtempSync(join(tmpdir(), 'purser-scan-'));
    logFile = join(mkdtempSync(join(tmpdir(), 'purser-scan-logs-')), 'server.log');
    const adminToken = `scan-break-glass-${randomBytes(16).toString('hex')}`;
    keep('break-glass token', adminToken);
    const config = loadConfig(
      {
        PORT: '0',
        HOST: '127.0.0.1',
        PURSER_DATA_DIR: dataDir,
        LOG_LEVEL: 'debug',
        PURSER_ADMIN_TOKEN: adminToken,
        PURSER_MIN_POSITION_TIMEOUT_MS: '3000',
      },
      false,
    );
    const logger = createLogger(
      config.logLevel,
      { app: 'org-server' },
      { destination: { write: (line: string) => appendFileSync(logFile, line) } },
    );
    const running = await startOrgServer(config, logger);
    const server: TestServer = {
      ...running,
      dataDir,
      adminToken,
      api: apiClient(running.url, { authorization: `Bearer ${adminToken}` }),
      anonymous: apiClient(running.url),
      stop: () => running.close(),
      cleanup: () => rmSync(dataDir, { recursive: true, force: true }),
    };
    const expectStatus = async (what: string, p: Promise<{ status: number; body: any }>, status: number) => {
      const res = await p;
      expect({ what, status: res.status, ...(res.status === status ? {} : { body: res.body }) }).toEqual({
        what,
        status,
      });
      return res;
    };
    try {
      // Setup, with the one-time token.
      const first = strongPassword();
      keep('owner password', first);
      owner = await setUpInstance(server, { orgName: 'Scan', username: 'ada', password: first });
      setupToken = owner.setupToken;
      keep('setup token', setupToken);
      keep('setup access token', owner.accessToken);
      keep('setup refresh token', owner.refreshToken);

      // Wrong passwords, then a sign-in.
      for (const wrong of [strongPassword(), `${first}x`]) {
        keep('wrong password', wrong);
        await expectStatus(
          'wrong password',
          server.anonymous.post('/v1/auth/login', { orgId: owner.orgId, username: 'ada', password: wrong }),
          401,
        );
      }
      const login = await signIn(server, owner);
      keep('access token', login.accessToken);
      keep('refresh token', login.refreshToken);

      // Refresh, then the old refresh token again (reuse: the session ends).
      const refreshed = await server.anonymous.post('/v1/auth/refresh', { refreshToken: login.refreshToken });
      expect(refreshed.status).toBe(200);
      keep('refreshed access token', refreshed.body.accessToken);
      keep('refreshed refresh token', refreshed.body.refreshToken);
      await expectStatus(
        'reused refresh token',
        server.anonymous.post('/v1/auth/refresh', { refreshToken: login.refreshToken }),
        401,
      );
      const bogus = `prt_${randomBytes(8).toString('hex')}_${randomBytes(32).toString('base64url')}`;
      keep('bogus refresh token', bogus);
      await expectStatus(
        'bogus refresh token',
        server.anonymous.post('/v1/auth/refresh', { refreshToken: bogus }),
        401,
      );
      const badBearer = randomBytes(24).toString('base64url');
      keep('bad bearer', badBearer);
      await expectStatus(
        'bad bearer',
        apiClient(server.url, { authorization: `Bearer ${badBearer}` }).get('/v1/me'),
        401,
      );

      // A password change: a wrong current password, a weak new one, then the change.
      const session = await signIn(server, owner);
      keep('access token', session.accessToken);
      keep('refresh token', session.refreshToken);
      const wrongCurrent = strongPassword();
      const weak = 'qwertyuiop12';
      const next = strongPassword();
      keep('wrong current password', wrongCurrent);
      keep('weak password', weak);
      keep('new password', next);
      await expectStatus(
        'wrong current password',
        session.api.post('/v1/me/password', { currentPassword: wrongCurrent, newPassword: next }),
        401,
      );
      await expectStatus(
        'weak password',
        session.api.post('/v1/me/password', { currentPassword: first, newPassword: weak }),
        422,
      );
      await expectStatus(
        'password change',
        session.api.post('/v1/me/password', { currentPassword: first, newPassword: next }),
        200,
      );
      const after = await signIn(server, { ...owner, password: next });
      keep('access token', after.accessToken);
      keep('refresh token', after.refreshToken);

      // The break-glass administrator sets a member's password; the member signs in and out.
      const member = await signedInOrg(server, server.api, { orgId: owner.orgId, username: 'bob' });
      keep('member password', member.password);
      keep('member access token', member.accessToken);
      keep('member refresh token', member.refreshToken);
      await expectStatus('logout', member.api.post('/v1/auth/logout'), 204);

      // API keys: created (shown once), used, rotated; the old and the new secret are secrets.
      const created = await expectStatus(
        'create key',
        after.api.post(`/v1/orgs/${owner.orgId}/api-keys`, { name: 'scan agent' }),
        201,
      );
      keep('API key', created.body.key);
      const agent = apiClient(server.url, { authorization: `Bearer ${created.body.key}` });
      await expectStatus('key use', agent.get(`/v1/orgs/${owner.orgId}`), 200);
      const rotated = await expectStatus(
        'rotate key',
        after.api.post(`/v1/orgs/${owner.orgId}/api-keys/${created.body.keyId}/rotate`, {}),
        200,
      );
      keep('rotated API key', rotated.body.key);
      await expectStatus(
        'bad key',
        apiClient(server.url, { authorization: `Bearer ${created.body.key}x` }).get('/v1/me'),
        401,
      );

      // MFA: the TOTP secret (shown once), the codes used and the recovery codes.
      const enrol = await expectStatus('enrol', after.api.post('/v1/me/mfa/totp', {}), 200);
      keep('TOTP secret', enrol.body.secret);
      const totp = new OTPAuth.TOTP({ secret: OTPAuth.Secret.fromBase32(enrol.body.secret) });
      const code = totp.generate();
      const confirmed = await expectStatus(
        'confirm',
        after.api.post('/v1/me/mfa/totp/confirm', { code }),
        200,
      );
      for (const recovery of confirmed.body.recoveryCodes) keep('recovery code', recovery);
      const step = await expectStatus(
        'sign-in step 1',
        server.anonymous.post('/v1/auth/login', {
          orgId: owner.orgId,
          username: owner.username,
          password: next,
        }),
        200,
      );
      keep('mfa token', step.body.mfaToken);
      const second = await expectStatus(
        'sign-in step 2',
        server.anonymous.post('/v1/auth/mfa', {
          mfaToken: step.body.mfaToken,
          recoveryCode: confirmed.body.recoveryCodes[0],
        }),
        200,
      );
      keep('access token', second.body.accessToken);
      keep('refresh token', second.body.refreshToken);
    } finally {
      await server.stop();
    }
    logs = readFileSync(logFile, 'utf8').split('\n').filter(Boolean);
  });
  afterAll(() => {
    rmSync(dataDir, { recursive: true, force: true });
    rmSync(join(logFile, '..'), { recursive: true, force: true });
  });

  const found = (text: string) =>
    [...secrets].filter(([form]) => text.includes(form)).map(([, what]) => what);

  it('given the flow, then the logs were captured at debug, with the requests, and the stores hold its rows', () => {
    expect(secrets.size).toBeGreaterThan(50);
    const parsed = logs.map((l) => JSON.parse(l));
    expect(parsed.some((l) => l.level === 20)).toBe(true);
    expect(parsed.filter((l) => l.msg === 'request' && l.route === '/v1/auth/login').length).toBeGreaterThan(
      3,
    );
    // The scan sees what is there: names and password hashes are in the event store.
    const events = rowsOf(join(dataDir, 'events.sqlite')).join('\n');
    expect(events).toContain('"ada"');
    expect(events).toContain('$argon2id$');
  });

  it('given every SQLite file of the data directory, then no row holds a secret', () => {
    const files = readdirSync(dataDir).filter((f) => /\.sqlite$/.test(f));
    expect(files).toEqual(expect.arrayContaining(['events.sqlite', 'read.sqlite']));
    const leaks: string[] = [];
    for (const file of files)
      for (const row of rowsOf(join(dataDir, file)))
        for (const what of found(row)) leaks.push(`${file}: ${what} in ${row.slice(0, 160)}`);
    expect(leaks).toEqual([]);
  });

  it('given the raw bytes of every SQLite file (WAL and journals included), then no secret', () => {
    const files = readdirSync(dataDir).filter((f) => /\.sqlite/.test(f));
    const leaks = files.flatMap((f) =>
      found(readFileSync(join(dataDir, f)).toString('latin1')).map((what) => `${f}: ${what}`),
    );
    expect(leaks).toEqual([]);
  });

  it('given the logs, then the setup token is on its one line of first start and no secret is anywhere else', () => {
    const setupLines = logs.filter((l) => {
      const line = JSON.parse(l);
      return SETUP_LINE.test(line.msg) && line.setupToken === setupToken;
    });
    expect(setupLines).toHaveLength(1);
    const leaks = logs
      .filter((l) => l !== setupLines[0])
      .flatMap((l) => found(l).map((what) => `${what} in ${l.slice(0, 200)}`));
    expect(leaks).toEqual([]);
  });
});
