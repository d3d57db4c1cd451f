import { readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { TestServer, apiClient, startTestServer } from '@purser/testkit';
import { CliIo, runCli } from './cli';

function io(env: Record<string, string | undefined> = {}) {
  const out: string[] = [];
  const err: string[] = [];
  const cli: CliIo = {
    env,
    out: (l) => out.push(l),
    err: (l) => err.push(l),
    readSecret: async () => 'a password typed at the prompt, long enough',
  };
  return { cli, out, err };
}

describe('the purser CLI', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer();
  });
  afterAll(async () => {
    await server?.stop();
    server?.cleanup();
  });

  it('given a fresh instance, when `purser setup` runs with the data dir, then the org and its owner exist and the owner is signed in; a second run is refused', async () => {
    const { cli, out, err } = io({ PURSER_OWNER_PASSWORD: 'a shell-provided password for the owner' });
    const args = ['setup', '--url', server.url, '--data-dir', server.dataDir, '--org', 'Shell Corp'];
    const code = await runCli([...args, '--username', 'root', '--email', 'root@shell.test'], cli);
    expect(err).toEqual([]);
    expect(code).toBe(0);
    const answer = JSON.parse(out[0]);
    const me = await apiClient(server.url, { authorization: `Bearer ${answer.accessToken}` }).get('/v1/me');
    expect(me.body).toMatchObject({ username: 'root', orgId: answer.orgId, instanceAdmin: true });

    const again = io({ PURSER_OWNER_PASSWORD: 'a shell-provided password for the owner' });
    const second = await runCli(
      [
        ...args,
        '--token',
        'pst_xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx',
        '--username',
        'xavier',
        '--email',
        'x@x.test',
      ],
      again.cli,
    );
    expect(second).toBe(1);
    expect(again.err[0]).toMatch(/setup refused \(409\)/);
  });

  it('given a keys directory, when `purser keys rotate` runs, then a new key signs and the old one still verifies (both in JWKS)', async () => {
    const before = await server.anonymous.get('/.well-known/jwks.json');
    const { cli, out } = io({ PURSER_DATA_DIR: server.dataDir });
    expect(await runCli(['keys', 'rotate'], cli)).toBe(0);
    const { kid } = JSON.parse(out[0]);
    const stored = JSON.parse(readFileSync(join(server.dataDir, 'keys', 'signing-keys.json'), 'utf8'));
    expect(stored.keys.map((k: { kid: string }) => k.kid)).toEqual([before.body.keys[0].kid, kid]);
  });

  it('given an empty folder, when `purser keys init` runs, then it holds the pepper, the sealing key and a signing key (0600)', async () => {
    const dir = join(server.dataDir, 'fresh-keys');
    const { cli, out } = io();
    expect(await runCli(['keys', 'init', '--keys-dir', dir], cli)).toBe(0);
    expect(JSON.parse(out[0])).toEqual({ keysDir: dir, kid: expect.any(String) });
    for (const file of ['pepper', 'seal.key', 'signing-keys.json'])
      expect(statSync(join(dir, file)).mode & 0o777).toBe(0o600);
  });

  it('given a missing option, then exit 2 with the usage', async () => {
    const { cli, err } = io();
    expect(await runCli(['setup', '--org', 'X'], cli)).toBe(2);
    expect(err[0]).toMatch(/setup needs --username, --email/);
  });

  it('given an audit export, when `purser audit verify` reads it intact, then exit 0; altered, a line removed or two swapped, then exit 1 naming the first bad seq', async () => {
    const org = await server.api.post('/v1/orgs', { name: 'Audited', baseCurrency: 'EUR', timeZone: 'UTC' });
    let position = org.body.position;
    for (const name of ['ann', 'ben', 'cal', 'dot']) {
      const u = await server.api.post(`/v1/orgs/${org.body.id}/users`, {
        username: name,
        email: `${name}@a.test`,
      });
      expect(u.status).toBe(201);
      position = u.body.position;
    }
    const res = await server.api.get(`/v1/orgs/${org.body.id}/audit?format=jsonl&minPosition=${position}`);
    expect(res.status).toBe(200);
    const lines = (res.body as string).split('\n').filter(Boolean);
    expect(lines).toHaveLength(5);
    const verify = async (tampered: string[]) => {
      const file = join(server.dataDir, `audit-${Math.random().toString(36).slice(2)}.jsonl`);
      writeFileSync(file, tampered.join('\n') + '\n');
      const { cli, out } = io();
      const code = await runCli(['audit', 'verify', '--file', file], cli);
      return { code, report: JSON.parse(out[0]) };
    };
    expect(await verify(lines)).toEqual({ code: 0, report: { ok: true, entries: 5 } });
    const altered = [...lines];
    altered[1] = altered[1].replace('"ann"', '"eve"');
    expect(altered[1]).not.toBe(lines[1]);
    const swapped = [...lines];
    [swapped[2], swapped[3]] = [swapped[3], swapped[2]];
    expect(await verify(altered)).toEqual({
      code: 1,
      report: { ok: false, entries: 2, firstBadSeq: 2, problem: 'altered' },
    });
    expect(await verify(lines.filter((_, i) => i !== 3))).toMatchObject({
      code: 1,
      report: { ok: false, firstBadSeq: 4, problem: 'missing' },
    });
    expect(await verify(swapped)).toMatchObject({
      code: 1,
      report: { ok: false, firstBadSeq: 3, problem: 'reordered' },
    });
    const { cli, err } = io();
    expect(await runCli(['audit', 'verify'], cli)).toBe(2);
    expect(err[0]).toMatch(/audit verify needs --file/);
  });
});
