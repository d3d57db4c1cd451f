import { join } from 'node:path';
import { ARGON2_PARAMS } from '@purser/access';
import { bearer } from '../lib/auth';
import { HttpClient, runPool } from '../lib/http';
import { AppProcess, startApp } from '../lib/processes';
import { Suite, SuiteContext, TargetCheck, equals } from '../lib/suite';
import { LatencySummary, perSecond, round, stopwatch, summarize } from '../lib/timing';
import { UsageDirectory, UsageGenerator, atMost, buildDirectory } from './usage-ingest';

/**
 * auth-overhead: what authentication costs on the hot paths. In one run, against one org server (its own process,
 * embedded engines): quota checks and small usage batches sent with an API key (`prk_<keyId>_<secret>`: one read of
 * the key's stream, an HMAC-SHA256 compared in constant time, the owner's liveness) against the same requests with the
 * break-glass token (a constant-time compare of two SHA-256 digests: the floor), in alternating rounds (ABBA) so that
 * drift in the machine's speed falls on both alike. Then password sign-in with the argon2id parameters in use
 * (throughput, p50/p99), and the server's responsiveness (GET /livez latency) while 50 sign-ins run at once.
 */

const CHECK_CONCURRENCY = 8;
const INGEST_CONCURRENCY = 4;
const INGEST_BATCH = 10;
const ROUNDS = 4;
const SIGN_IN_CONCURRENCY = 2;
const STORM = 50;
const PASSWORD = 'bench: correct horse battery staple 42';
const TARGET_RATIO = 1.1;
const TARGET_LIVEZ_P99_MS = 50;

interface Measured {
  requests: number;
  perSec: number;
  latency: LatencySummary;
}

interface Comparison {
  breakGlass: Measured;
  apiKey: Measured;
  /** Requests per second with the break-glass token ÷ with the API key: what the key costs on top of the floor. */
  ratio: number;
  /** p50 with the API key ÷ p50 with the break-glass token. */
  p50Ratio: number;
}

async function expect2xx(res: Promise<{ status: number; body: any }>, what: string) {
  const r = await res;
  if (r.status < 200 || r.status > 299)
    throw new Error(`${what} answered ${r.status}: ${JSON.stringify(r.body).slice(0, 400)}`);
  return r.body;
}

/** `send` n times on `concurrency` lanes; every answer must be 200. */
async function closedLoop(
  n: number,
  concurrency: number,
  send: () => Promise<{ status: number; body: unknown; ms: number }>,
) {
  const latencies: number[] = [];
  const elapsed = stopwatch();
  await runPool(Array.from({ length: n }), concurrency, async () => {
    const res = await send();
    if (res.status !== 200)
      throw new Error(`answered ${res.status}: ${JSON.stringify(res.body).slice(0, 400)}`);
    latencies.push(res.ms);
  });
  return { latencies, ms: elapsed() };
}

/** Warm both, then ROUNDS rounds of each in ABBA order; the figures of each credential summed over its rounds. */
async function compare(
  ctx: SuiteContext,
  what: string,
  perRound: number,
  concurrency: number,
  sends: { breakGlass: () => Promise<any>; apiKey: () => Promise<any> },
): Promise<Comparison> {
  const warm = Math.max(20, Math.round(perRound / 4));
  await closedLoop(warm, concurrency, sends.breakGlass);
  await closedLoop(warm, concurrency, sends.apiKey);
  const acc = {
    breakGlass: { latencies: [] as number[], ms: 0 },
    apiKey: { latencies: [] as number[], ms: 0 },
  };
  for (let r = 0; r < ROUNDS; r++) {
    const order = r % 2 === 0 ? (['breakGlass', 'apiKey'] as const) : (['apiKey', 'breakGlass'] as const);
    for (const who of order) {
      const run = await closedLoop(perRound, concurrency, sends[who]);
      acc[who].latencies.push(...run.latencies);
      acc[who].ms += run.ms;
    }
  }
  const measured = (a: { latencies: number[]; ms: number }): Measured => ({
    requests: a.latencies.length,
    perSec: perSecond(a.latencies.length, a.ms),
    latency: summarize(a.latencies),
  });
  const breakGlass = measured(acc.breakGlass);
  const apiKey = measured(acc.apiKey);
  const out = {
    breakGlass,
    apiKey,
    ratio: round(breakGlass.perSec / apiKey.perSec),
    p50Ratio: round(apiKey.latency.p50Ms / breakGlass.latency.p50Ms),
  };
  ctx.log(
    `auth-overhead: ${what}: break-glass ${breakGlass.perSec}/s p50 ${breakGlass.latency.p50Ms} ms, API key ${apiKey.perSec}/s p50 ${apiKey.latency.p50Ms} ms, ratio ${out.ratio}`,
  );
  return out;
}

interface World {
  directory: UsageDirectory;
  key: string;
  signInUsers: string[];
}

async function buildWorld(ctx: SuiteContext, admin: HttpClient, users: number): Promise<World> {
  const directory = await buildDirectory(ctx, admin, users, Math.max(2, Math.round(users / 10)));
  const { orgId } = directory;
  await expect2xx(
    admin.post(`/v1/orgs/${orgId}/quotas`, {
      entityType: 'Org',
      entityId: orgId,
      metric: 'cost',
      limit: '1000000000',
      period: 'month',
      enforcement: 'hard',
    }),
    'POST quota',
  );
  const created = await expect2xx(
    admin.post(`/v1/orgs/${orgId}/api-keys`, {
      name: 'bench agent',
      owner: { type: 'user', id: directory.users[0].id },
    }),
    'POST api-keys',
  );
  // Users with a password, one per concurrent sign-in (a user's sign-ins append to one stream).
  const signInUsers = directory.users.slice(0, STORM).map((u, i) => ({ ...u, username: `bench.user.${i}` }));
  await runPool(signInUsers, 4, async (u) => {
    await expect2xx(
      admin.send('PUT', `/v1/orgs/${orgId}/users/${u.id}/password`, { password: PASSWORD }),
      'PUT password',
    );
  });
  return { directory, key: created.key, signInUsers: signInUsers.map((u) => u.username) };
}

/** GET /livez one after another until `done` resolves: the server's event loop as a caller sees it. */
async function probeLivez(http: HttpClient, done: Promise<unknown>): Promise<LatencySummary> {
  let finished = false;
  void done.finally(() => (finished = true));
  const samples: number[] = [];
  while (!finished) {
    const res = await http.get('/livez');
    if (res.status !== 200) throw new Error(`/livez answered ${res.status}`);
    samples.push(res.ms);
    await new Promise((r) => setTimeout(r, 2));
  }
  return summarize(samples);
}

async function signIns(ctx: SuiteContext, url: string, orgId: string, usernames: string[]) {
  const anonymous = new HttpClient(url, STORM, null);
  const signIn = (username: string) =>
    anonymous.post<{ accessToken?: string }>('/v1/auth/login', { orgId, username, password: PASSWORD });
  try {
    // Throughput and latency of sign-ins at a steady SIGN_IN_CONCURRENCY (the cores of this machine).
    const n = ctx.count(400, 20);
    const latencies: number[] = [];
    let errors = 0;
    const elapsed = stopwatch();
    await runPool(Array.from({ length: n }), SIGN_IN_CONCURRENCY, async (_, i) => {
      const res = await signIn(usernames[i % usernames.length]);
      if (res.status === 200 && res.body.accessToken) latencies.push(res.ms);
      else errors++;
    });
    const steady = { signIns: n, perSec: perSecond(n, elapsed()), latency: summarize(latencies), errors };
    ctx.log(
      `auth-overhead: sign-in: ${steady.perSec}/s, p50 ${steady.latency.p50Ms} ms, p99 ${steady.latency.p99Ms} ms`,
    );

    // The event loop: /livez idle, then while STORM sign-ins run at once.
    const monitor = new HttpClient(url, 1, null);
    try {
      const idle = await probeLivez(monitor, new Promise((r) => setTimeout(r, 1_000)));
      const stormElapsed = stopwatch();
      const storm = Promise.all(usernames.slice(0, STORM).map((u) => signIn(u)));
      const during = await probeLivez(monitor, storm);
      const answers = await storm;
      const stormMs = stormElapsed();
      const ok = answers.filter((a) => a.status === 200).length;
      ctx.log(
        `auth-overhead: ${STORM} sign-ins at once in ${Math.round(stormMs)} ms; /livez p99 ${idle.p99Ms} ms idle, ${during.p99Ms} ms during`,
      );
      return {
        steady,
        storm: {
          concurrent: STORM,
          ok,
          errors: answers.length - ok,
          ms: round(stormMs, 1),
          signInLatency: summarize(answers.map((a) => a.ms)),
          livezIdle: idle,
          livezDuring: during,
        },
      };
    } finally {
      monitor.close();
    }
  } finally {
    anonymous.close();
  }
}

export const authOverheadSuite: Suite = {
  name: 'auth-overhead',
  description:
    'Quota checks and small usage batches with an API key against the break-glass floor (ratio), argon2id sign-in throughput and p50/p99, /livez during 50 concurrent sign-ins',
  async run(ctx) {
    let server: AppProcess | null = null;
    let admin: HttpClient | null = null;
    let agent: HttpClient | null = null;
    try {
      server = await startApp('org-server', {
        PURSER_DATA_DIR: join(ctx.dir, 'embedded'),
        // The login rate limit per address would refuse the sign-in runs (they all come from 127.0.0.1).
        PURSER_AUTH_RATE_LIMIT: '100000',
      });
      admin = new HttpClient(server.url, 32);
      const setup = stopwatch();
      const world = await buildWorld(ctx, admin, Math.max(STORM, ctx.count(500)));
      const setupMs = setup();
      agent = new HttpClient(server.url, 32, bearer(world.key));
      const { orgId, users } = world.directory;
      let u = 0;
      const checkBody = () => ({
        userId: users[u++ % users.length].id,
        itemType: 'Agent',
        itemId: 'bench-agent',
        estimate: { amount: '0.01', currency: 'EUR' },
      });
      const checkPath = `/v1/orgs/${orgId}/quota-checks`;
      const checks = await compare(ctx, 'quota checks', ctx.count(5_000, 100), CHECK_CONCURRENCY, {
        breakGlass: () => admin!.post(checkPath, checkBody()),
        apiKey: () => agent!.post(checkPath, checkBody()),
      });

      const perRound = ctx.count(1_000, 50);
      const total = 2 * (ROUNDS + 1) * perRound * INGEST_BATCH;
      const now = Date.now();
      const gen = new UsageGenerator(world.directory, total, now - 3_600_000, now);
      const ingest = await compare(ctx, `usage batches of ${INGEST_BATCH}`, perRound, INGEST_CONCURRENCY, {
        breakGlass: () => admin!.postRaw('/v1/usage', gen.batch(INGEST_BATCH)),
        apiKey: () => agent!.postRaw('/v1/usage', gen.batch(INGEST_BATCH)),
      });

      const signIn = await signIns(ctx, server.url, orgId, world.signInUsers);
      const targets: Record<string, TargetCheck> = {
        quotaCheckRatio: atMost(checks.ratio, TARGET_RATIO),
        usageIngestRatio: atMost(ingest.ratio, TARGET_RATIO),
        signInErrors: equals(signIn.steady.errors + signIn.storm.errors, 0),
        livezP99MsDuringSignIns: atMost(signIn.storm.livezDuring.p99Ms, TARGET_LIVEZ_P99_MS),
      };
      return {
        figures: {
          world: {
            users: users.length,
            teams: world.directory.teams.length,
            quotasPerCheck: 1,
            setupMs: round(setupMs, 1),
          },
          server: 'org server in its own process (dist, embedded engines, projections in-process)',
          rounds: `${ROUNDS} per credential, alternating (ABBA), after a warm-up of each`,
          quotaChecks: { concurrency: CHECK_CONCURRENCY, ...checks },
          usageIngest: { concurrency: INGEST_CONCURRENCY, batch: INGEST_BATCH, ...ingest },
          signIn: {
            argon2id: {
              memoryKiB: ARGON2_PARAMS.memoryCost,
              timeCost: ARGON2_PARAMS.timeCost,
              parallelism: ARGON2_PARAMS.parallelism,
            },
            concurrency: SIGN_IN_CONCURRENCY,
            ...signIn,
          },
        },
        targets,
      };
    } finally {
      agent?.close();
      admin?.close();
      await server?.stop();
    }
  },
};
