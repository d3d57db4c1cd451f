import { execFile, spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { TestServer, startTestServer } from '@purser/testkit';

/** The README's tour, as a reader pastes it: its one bash block, with only the API address changed. */
function tourScript(base: string, dataDir: string): string {
  const readme = readFileSync(join(__dirname, '..', 'README.md'), 'utf8');
  const section = readme.slice(readme.indexOf('## A five-minute tour'));
  const block = /```bash\n([\s\S]*?)```/.exec(section)?.[1];
  if (!block) throw new Error('README.md: no bash block in "A five-minute tour"');
  if (!/^API=http:\/\/localhost:3000$/m.test(block))
    throw new Error('README.md: the tour must set API=http://localhost:3000 on its own line');
  if (!/^DATA=\.\/data$/m.test(block))
    throw new Error('README.md: the tour must set DATA=./data on its own line');
  return block
    .replace(/^API=http:\/\/localhost:3000$/m, `API=${base}`)
    .replace(/^DATA=\.\/data$/m, `DATA=${dataDir}`);
}

/** What jq and curl printed: compact lines and pretty-printed values, one after the other. */
function jsonValues(stdout: string): any[] {
  const values: any[] = [];
  let buffer = '';
  for (const line of stdout.split('\n')) {
    buffer += line + '\n';
    try {
      values.push(JSON.parse(buffer));
      buffer = '';
    } catch {
      /* not a whole value yet */
    }
  }
  if (buffer.trim()) throw new Error(`output that is not JSON: ${buffer}`);
  return values;
}

const missing = ['curl', 'jq'].filter((tool) => spawnSync('sh', ['-c', `command -v ${tool}`]).status !== 0);
const itWithTools = missing.length ? it.skip : it;

describe('the README tour, pasted into bash against a fresh embedded server, signed in', () => {
  let server: TestServer;
  beforeAll(async () => {
    if (missing.length) return;
    server = await startTestServer({
      env: { MONGODB_URL: undefined, KAFKA_BROKERS: undefined, EVENTSTORE_URL: undefined },
    });
  });
  afterAll(async () => {
    await server?.stop();
    server?.cleanup();
  });

  itWithTools(
    `${missing.length ? `(skipped: ${missing.join(' and ')} not installed) ` : ''}then every step answers as the README says: the reservation settles, the quota bites with 429 and says why, and the report shows the spend`,
    async () => {
      const { stdout, stderr } = await new Promise<{ stdout: string; stderr: string }>((resolve, reject) => {
        const child = execFile(
          'bash',
          ['-s'],
          { env: { PATH: process.env.PATH, HOME: process.env.HOME }, timeout: 30_000 },
          (err, out, errOut) =>
            err ? reject(Object.assign(err, { stderr: errOut })) : resolve({ stdout: out, stderr: errOut }),
        );
        child.stdin!.end(tourScript(server.url, server.dataDir));
      });
      expect(stderr).toBe('');
      const values = jsonValues(stdout);

      // Set up once, then signed in as the owner, who is the instance administrator.
      expect(values[0]).toEqual({ username: 'owner', orgId: expect.any(String), instanceAdmin: true });

      // No step failed on bad input or an unknown id (the only refusals are the cycle and the quota).
      const errors = values.filter((v) => typeof v?.statusCode === 'number');
      expect(errors.map((e) => e.statusCode)).toEqual([409, 429]);
      expect(errors[0].message).toMatch(/would make a cycle/);

      // The check reserved the estimate on the Engineering quota, and the usage settled it.
      expect(values).toContainEqual({
        allowed: true,
        reservationId: expect.any(String),
        quotas: [{ limit: '0.08', used: '0', reserved: '0.05' }],
      });
      expect(values).toContainEqual({ state: 'settled', amount: '0.05' });
      expect(values).toContainEqual({
        via: 'team Engineering',
        limit: '0.08',
        used: '0.0412',
        reserved: '0',
        remaining: '0.0388',
      });

      // The same check again is refused, with the figures that refused it.
      expect(errors[1].message).toMatch(
        /refuses 0\.05 EUR: 0\.0412 EUR used and 0 EUR reserved of 0\.08 EUR/,
      );

      // The final report is not empty.
      const report = values[values.length - 1];
      expect(report.total).toMatchObject({
        amounts: [{ amount: '0.0412', currency: 'EUR' }],
        base: { amount: '0.0412', currency: 'EUR', complete: true },
        count: 1,
      });
      expect(report.rows.length).toBeGreaterThan(0);
    },
  );
});
