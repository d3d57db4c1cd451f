import { ChildProcess, fork } from 'node:child_process';
import { Worker } from 'node:worker_threads';
import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import mongoose from 'mongoose';
import { loadConfig } from '@purser/platform';
import { startOrgServer } from '../../apps/org-server/src/server';
import { HttpClient, runPool } from '../lib/http';
import { adminEnv, bearer } from '../lib/auth';
import { SEMI_SPACE_MB, passedThrough } from '../lib/processes';
import { Random } from '../lib/random';
import { Suite, SuiteContext, TargetCheck, equals } from '../lib/suite';
import { percentile, perSecond, round, stopwatch } from '../lib/timing';

/**
 * quota-check: the latency of check-and-reserve (POST /v1/orgs/:orgId/quota-checks) under fixed arrival rates, next to
 * the floor of the same HTTP stack (GET /livez, no engine) measured in the same run; then the overspend guarantee
 * (a hard quota with room for 10, 100 checks at once: exactly 10 allowed) on embedded engines and on MongoDB.
 *
 * The load generator is open-loop (request i is sent at t0 + i/rate whatever happened to the earlier ones, and its
 * latency runs from that scheduled instant, so a stall shows in the figures instead of slowing the generator down:
 * no coordinated omission). It runs in a child process (this file, forked with GENERATOR_FLAG), and the org server in
 * another (forked with SERVER_FLAG), so that server, generator and this orchestrating process share no event loop. It uses node:http with a keep-alive Agent (bench/lib/http.ts): on this machine
 * its floor was lower and steadier than undici's (global fetch), which QUOTA_BENCH_CLIENT=fetch selects to compare.
 */

const GENERATOR_FLAG = '--quota-check-generator';
const SERVER_FLAG = '--quota-check-server';
const RATES = [1_000, 5_000] as const;
/** QUOTA_BENCH_RATES=1000 runs only that rate (for profiling one load); by default, all of RATES. */
const RUN_RATES = RATES.filter((r) =>
  (process.env.QUOTA_BENCH_RATES ?? String(r)).split(',').includes(String(r)),
);
const WARMUP_MS = 2_000;
/** Connections the generator may use (requests beyond wait in its queue, and that wait is measured). */
const MAX_SOCKETS = 64;
/** How long the generator waits for the last answers after the last send before counting them as errors. */
const DRAIN_MS = 30_000;
const TOP_LEVEL_TEAMS = 1;
const BRANCHING = 5;
const SETUP_CONCURRENCY = 16;
const ESTIMATE = '0.01';
const OVERSPEND_CHECKS = 100;
const OVERSPEND_ROOM = 10;
/**
 * Where the embedded server's projections run: 'in-process' (the default, as `npm start` runs it) or 'worker' (a
 * forked apps/worker on the same data directory, as PURSER_PROJECTIONS=worker deploys it).
 */
const PROJECTIONS: 'in-process' | 'worker' =
  process.env.QUOTA_BENCH_PROJECTIONS === 'worker' ? 'worker' : 'in-process';
/**
 * The org server's young-generation size as npm start and deploy/ set it, then QUOTA_BENCH_SERVER_NODE_FLAGS (extra
 * flags for the server process only, space-separated, e.g. "--cpu-prof").
 */
const SERVER_NODE_FLAGS = [
  `--max-semi-space-size=${SEMI_SPACE_MB['org-server']}`,
  ...(process.env.QUOTA_BENCH_SERVER_NODE_FLAGS ?? '').split(' ').filter(Boolean),
];
const PACER: LoadSpec['pacer'] = process.env.QUOTA_BENCH_PACER === 'timer' ? 'timer' : 'metronome';
const CLIENT: LoadSpec['client'] = process.env.QUOTA_BENCH_CLIENT === 'fetch' ? 'fetch' : 'node-http';
const TARGET_P99_MS: Record<(typeof RATES)[number], number> = { 1_000: 2, 5_000: 10 };

// ---------------------------------------------------------------------------------------------------------------
// The generator (child process)
// ---------------------------------------------------------------------------------------------------------------

interface LoadSpec {
  url: string;
  rate: number;
  warmupMs: number;
  durationMs: number;
  maxSockets: number;
  /** node:http with a keep-alive Agent (bench/lib/http.ts), or undici through the global fetch (unbounded pool). */
  client: 'node-http' | 'fetch';
  /** How sends are timed: a metronome thread (sub-millisecond), or the event loop's 1 ms timers. */
  pacer: 'metronome' | 'timer';
  /** 'livez': GET /livez. 'check': POST a quota check for a random user of `userIds`. */
  target: 'livez' | 'check';
  orgId?: string;
  userIds?: string[];
  seed: number;
}

interface Latency {
  count: number;
  meanMs: number;
  p50Ms: number;
  p99Ms: number;
  p999Ms: number;
  maxMs: number;
}

interface LoadResult {
  target: LoadSpec['target'];
  rate: number;
  durationMs: number;
  /** Requests in the measured window (warm-up excluded). */
  requests: number;
  /** Answered 200 (livez, allowed check). */
  ok: number;
  /** Answered 429 (a refused check: none expected here). */
  refused: number;
  /** Any other status, a transport error, or no answer within DRAIN_MS of the last send. */
  errors: number;
  /**
   * No answer within DRAIN_MS of the last send (included in errors). Their latency counts in the percentiles as
   * the time they had waited when given up (a lower bound), so an overloaded server cannot look fast.
   */
  unanswered: number;
  errorSamples: string[];
  /** Answers per second over the window: from the first scheduled send to the last answer. */
  achievedRate: number;
  /**
   * Every answer of the run (warm-up included) per second, from the first send to the last answer: the server's
   * throughput, which stays meaningful when the window's requests are starved behind the warm-up's backlog.
   */
  answersPerSecOverall: number;
  /** From the scheduled send instant to the whole answer: what a caller at this rate sees. */
  latency: Latency;
  /** From the send on a connection (after any wait in the generator's queue) to the whole answer. */
  serviceLatency: Latency;
  /** How late the generator queued requests, against the schedule (its own timer resolution and load). */
  sendLag: Pick<Latency, 'p50Ms' | 'p99Ms' | 'maxMs'>;
}

type ToGenerator = { type: 'run'; spec: LoadSpec };
type FromGenerator = { type: 'result'; result: LoadResult } | { type: 'error'; message: string };

function latencyOf(samples: Float64Array, n: number): Latency {
  const sorted = Array.from(samples.subarray(0, n)).sort((a, b) => a - b);
  const sum = sorted.reduce((s, x) => s + x, 0);
  return {
    count: n,
    meanMs: round(n ? sum / n : NaN),
    p50Ms: round(percentile(sorted, 50)),
    p99Ms: round(percentile(sorted, 99)),
    p999Ms: round(percentile(sorted, 99.9)),
    maxMs: round(n ? sorted[n - 1] : NaN),
  };
}

const ms = (ns: bigint) => Number(ns) / 1e6;

interface Client {
  send(method: 'GET' | 'POST', path: string, body?: unknown): Promise<{ status: number; body: unknown }>;
  close(): void;
}

function client(spec: LoadSpec): Client {
  if (spec.client === 'node-http') {
    const http = new HttpClient(spec.url, spec.maxSockets);
    return { send: (method, path, body) => http.send(method, path, body), close: () => http.close() };
  }
  const abort = new AbortController();
  return {
    async send(method, path, body) {
      const res = await fetch(spec.url + path, {
        method,
        headers: {
          authorization: bearer(),
          ...(body === undefined ? {} : { 'content-type': 'application/json' }),
        },
        body: body === undefined ? undefined : JSON.stringify(body),
        signal: abort.signal,
      });
      const text = await res.text();
      return { status: res.status, body: text };
    },
    close: () => abort.abort(),
  };
}

/**
 * The generator's metronome: a thread that sleeps (Atomics.wait, microsecond resolution) until each request's
 * scheduled instant and then wakes the generator's event loop, which queues every request due by then. Node's own
 * timers fire on whole milliseconds, which made requests leave 0.7 ms late at the median (and the floor's p99 about
 * 3 ms) before anything reached the server.
 */
const METRONOME_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
const { t0, intervalNs, total } = workerData;
const sleeper = new Int32Array(new SharedArrayBuffer(4));
for (let i = 0; i < total; i++) {
  const at = t0 + BigInt(Math.round(i * intervalNs));
  for (;;) {
    const aheadMs = Number(at - process.hrtime.bigint()) / 1e6;
    if (aheadMs <= 0.01) break;
    Atomics.wait(sleeper, 0, 0, aheadMs);
  }
  parentPort.postMessage(i);
}
`;

/**
 * Sends `rate` requests per second for warmupMs + durationMs on a fixed schedule. The pacer (the metronome thread, or
 * QUOTA_BENCH_PACER=timer for 1 ms event-loop timers) puts every request that is due in a FIFO queue, which at most
 * maxSockets lanes (one keep-alive connection each) drain. The pacer's lag against the schedule is reported and is
 * part of the measured latency (and of the floor's); so is the wait in the queue when the server is slower than the
 * arrival rate. The queue is the generator's own (not the Agent's) so that a run can drop its backlog when it ends
 * instead of leaving it to be sent during the next run.
 */
async function openLoop(spec: LoadSpec): Promise<LoadResult> {
  const http = client(spec);
  const rng = new Random(spec.seed);
  const warm = Math.round((spec.rate * spec.warmupMs) / 1000);
  const measured = Math.round((spec.rate * spec.durationMs) / 1000);
  const total = warm + measured;
  const intervalNs = 1e9 / spec.rate;
  const latency = new Float64Array(measured);
  const service = new Float64Array(measured);
  const lag = new Float64Array(measured);
  let answered = 0;
  let ok = 0;
  let refused = 0;
  let errors = 0;
  const errorSamples: string[] = [];
  /** Scheduled send instants of the window's requests still unanswered. */
  const outstanding = new Set<bigint>();
  let lastAnswer = 0n;
  let answersOverall = 0;
  let lastAnswerOverall = 0n;
  const checkPath = `/v1/orgs/${spec.orgId}/quota-checks`;
  const users = spec.userIds ?? [];

  const queue: Array<(() => Promise<void>) | undefined> = [];
  let head = 0;
  let busy = 0;
  let stopped = false;
  const pump = () => {
    while (!stopped && busy < spec.maxSockets && head < queue.length) {
      const job = queue[head]!;
      queue[head++] = undefined;
      busy++;
      void job().finally(() => {
        busy--;
        pump();
      });
    }
  };

  const due = (i: number, scheduled: bigint) => {
    const inWindow = i >= warm;
    if (inWindow) {
      lag[i - warm] = ms(process.hrtime.bigint() - scheduled);
      outstanding.add(scheduled);
    }
    queue.push(() => send(inWindow, scheduled));
    pump();
  };

  const send = (inWindow: boolean, scheduled: bigint): Promise<void> => {
    const sentAt = process.hrtime.bigint();
    const request =
      spec.target === 'livez'
        ? http.send('GET', '/livez')
        : http.send('POST', checkPath, {
            userId: rng.pick(users),
            itemType: 'Agent',
            itemId: 'bench-agent',
            estimate: { amount: ESTIMATE, currency: 'USD' },
          });
    const done = (res: { status: number; body: unknown } | null, err: unknown) => {
      const now = process.hrtime.bigint();
      if (res && now - t0 < drainEnd) {
        answersOverall++;
        lastAnswerOverall = now;
      }
      if (!inWindow || !outstanding.delete(scheduled)) return;
      lastAnswer = now;
      if (res) {
        latency[answered] = ms(now - scheduled);
        service[answered] = ms(now - sentAt);
        answered++;
        if (res.status === 200) ok++;
        else if (res.status === 429) refused++;
        else {
          errors++;
          if (errorSamples.length < 5)
            errorSamples.push(`${res.status} ${JSON.stringify(res.body).slice(0, 200)}`);
        }
      } else {
        errors++;
        if (errorSamples.length < 5) errorSamples.push(String((err as Error)?.message ?? err));
      }
    };
    return request.then(
      (res) => done(res, null),
      (err) => done(null, err),
    );
  };

  const t0 = process.hrtime.bigint() + 5_000_000n;
  /** Answers after the drain (the client is closed by then) are not counted: set when the drain ends. */
  let drainEnd = BigInt(Number.MAX_SAFE_INTEGER);
  const scheduledAt = (i: number) => t0 + BigInt(Math.round(i * intervalNs));
  const windowStart = scheduledAt(warm);
  await new Promise<void>((resolve, reject) => {
    let i = 0;
    /** Queues every request due by now; true once all are. */
    const release = () => {
      const now = process.hrtime.bigint();
      while (i < total) {
        const at = scheduledAt(i);
        if (at > now) break;
        due(i++, at);
      }
      return i >= total;
    };
    if (spec.pacer === 'metronome') {
      const metronome = new Worker(METRONOME_SOURCE, {
        eval: true,
        workerData: { t0, intervalNs, total },
      });
      metronome.on('message', () => {
        if (release()) void metronome.terminate().then(() => resolve());
      });
      metronome.on('error', reject);
      return;
    }
    const tick = () => {
      if (release()) return resolve();
      const waitMs = ms(scheduledAt(i) - process.hrtime.bigint());
      setTimeout(tick, Math.max(0, Math.floor(waitMs)));
    };
    setTimeout(tick, 5);
  });
  const lastSend = process.hrtime.bigint();
  while (outstanding.size > 0 && ms(process.hrtime.bigint() - lastSend) < DRAIN_MS) {
    await new Promise((r) => setTimeout(r, 5));
  }
  drainEnd = process.hrtime.bigint() - t0;
  stopped = true;
  queue.length = 0;
  const unanswered = outstanding.size;
  if (unanswered > 0) {
    const givenUp = process.hrtime.bigint();
    let k = answered;
    for (const scheduled of outstanding) latency[k++] = ms(givenUp - scheduled);
    errors += unanswered;
    errorSamples.push(`${unanswered} requests unanswered ${DRAIN_MS} ms after the last send`);
  }
  http.close();
  const lagSummary = latencyOf(lag, measured);
  return {
    target: spec.target,
    rate: spec.rate,
    durationMs: spec.durationMs,
    requests: measured,
    ok,
    refused,
    errors,
    unanswered,
    errorSamples,
    achievedRate: lastAnswer > windowStart ? perSecond(answered, ms(lastAnswer - windowStart)) : 0,
    answersPerSecOverall: lastAnswerOverall > t0 ? perSecond(answersOverall, ms(lastAnswerOverall - t0)) : 0,
    latency: latencyOf(latency, answered + unanswered),
    serviceLatency: latencyOf(service, answered),
    sendLag: { p50Ms: lagSummary.p50Ms, p99Ms: lagSummary.p99Ms, maxMs: lagSummary.maxMs },
  };
}

function generatorMain(): void {
  process.on('message', (msg: ToGenerator) => {
    if (msg?.type !== 'run') return;
    openLoop(msg.spec).then(
      (result) => process.send!({ type: 'result', result } satisfies FromGenerator),
      (err) =>
        process.send!({
          type: 'error',
          message: (err as Error).stack ?? String(err),
        } satisfies FromGenerator),
    );
  });
  process.on('disconnect', () => process.exit(0));
}

/** The parent's handle on the forked generator: one run at a time. */
class Generator {
  private readonly child: ChildProcess;
  private exited: Error | null = null;

  constructor() {
    // stdout carries the bench's JSON report: the child's stdout goes to stderr.
    this.child = fork(__filename, [GENERATOR_FLAG], { stdio: ['ignore', 2, 2, 'ipc'] });
    this.child.on('exit', (code, signal) => {
      this.exited = new Error(`load generator exited (code ${code}, signal ${signal})`);
    });
  }

  run(spec: LoadSpec): Promise<LoadResult> {
    if (this.exited) return Promise.reject(this.exited);
    return new Promise<LoadResult>((resolve, reject) => {
      const onMessage = (msg: FromGenerator) => {
        cleanup();
        if (msg.type === 'result') resolve(msg.result);
        else reject(new Error(`load generator failed: ${msg.message}`));
      };
      const onExit = () => {
        cleanup();
        reject(this.exited ?? new Error('load generator exited'));
      };
      const cleanup = () => {
        this.child.off('message', onMessage);
        this.child.off('exit', onExit);
      };
      this.child.on('message', onMessage);
      this.child.on('exit', onExit);
      this.child.send({ type: 'run', spec } satisfies ToGenerator);
    });
  }

  async stop(): Promise<void> {
    if (this.exited) return;
    const gone = new Promise((r) => this.child.once('exit', r));
    if (this.child.connected) this.child.disconnect();
    const timer = setTimeout(() => this.child.kill('SIGKILL'), 5_000);
    await gone;
    clearTimeout(timer);
  }
}

// ---------------------------------------------------------------------------------------------------------------
// The org server (child process)
// ---------------------------------------------------------------------------------------------------------------

type ToServer = { type: 'start'; env: Record<string, string> };
type FromServer = { type: 'listening'; url: string } | { type: 'error'; message: string };

function serverMain(): void {
  let close: (() => Promise<void>) | null = null;
  process.on('message', (msg: ToServer) => {
    if (msg?.type !== 'start') return;
    startOrgServer(loadConfig(msg.env)).then(
      (server) => {
        close = () => server.close();
        process.send!({ type: 'listening', url: server.url } satisfies FromServer);
      },
      (err) =>
        process.send!({ type: 'error', message: (err as Error).stack ?? String(err) } satisfies FromServer),
    );
  });
  process.on('disconnect', () => {
    void (close ?? (() => Promise.resolve()))()
      .catch(() => undefined)
      .finally(() => process.exit(0));
  });
}

/**
 * An org server in its own process (this file, forked with SERVER_FLAG), so that neither the generator nor this
 * orchestrating process shares its event loop. The /livez floor is measured against the same process.
 */
class ServerProcess {
  private constructor(
    private readonly child: ChildProcess,
    readonly url: string,
    private readonly worker: ChildProcess | null,
  ) {}

  static async start(env: Record<string, string>): Promise<ServerProcess> {
    if (PROJECTIONS === 'in-process') return ServerProcess.fork(env, null);
    const worker = fork(join(__dirname, '../../apps/worker/src/main.js'), [], {
      stdio: ['ignore', 2, 2, 'ipc'],
      execArgv: [...process.execArgv, `--max-semi-space-size=${SEMI_SPACE_MB.worker}`],
      env: { ...process.env, ...env, PURSER_PROJECTIONS: 'worker', WORKER_PORT: '0' },
    });
    return ServerProcess.fork({ ...env, PURSER_PROJECTIONS: 'worker' }, worker).catch((err) => {
      worker.kill('SIGKILL');
      throw err;
    });
  }

  private static fork(env: Record<string, string>, worker: ChildProcess | null): Promise<ServerProcess> {
    const child = fork(__filename, [SERVER_FLAG], {
      stdio: ['ignore', 2, 2, 'ipc'],
      execArgv: [...process.execArgv, ...SERVER_NODE_FLAGS],
    });
    return new Promise<ServerProcess>((resolve, reject) => {
      const onExit = (code: number | null, signal: string | null) =>
        reject(new Error(`org server exited (code ${code}, signal ${signal}) before listening`));
      child.once('exit', onExit);
      child.once('message', (msg: FromServer) => {
        child.off('exit', onExit);
        if (msg.type === 'listening') return resolve(new ServerProcess(child, msg.url, worker));
        child.kill('SIGKILL');
        reject(new Error(`org server failed to start: ${msg.message}`));
      });
      child.send({ type: 'start', env: { ...adminEnv(), ...env } } satisfies ToServer);
    });
  }

  async close(): Promise<void> {
    await Promise.all([
      stopChild(this.child, (c) => c.connected && c.disconnect()),
      this.worker ? stopChild(this.worker, (c) => c.kill('SIGTERM')) : null,
    ]);
  }
}

async function stopChild(child: ChildProcess, ask: (c: ChildProcess) => unknown): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const gone = new Promise((r) => child.once('exit', r));
  ask(child);
  const timer = setTimeout(() => child.kill('SIGKILL'), 30_000);
  await gone;
  clearTimeout(timer);
}

// ---------------------------------------------------------------------------------------------------------------
// The world: an org, a team tree, users and quotas, built through the API
// ---------------------------------------------------------------------------------------------------------------

/** POST expecting 200/201; retries a 409 (optimistic concurrency on a shared stream such as the quota book). */
async function create(http: HttpClient, path: string, body: unknown): Promise<string> {
  for (let attempt = 0; ; attempt++) {
    const res = await http.post<{ id: string }>(path, body).catch((err: Error) => {
      throw new Error(`POST ${path}: ${err.message}`);
    });
    if (res.status === 200 || res.status === 201) return res.body.id;
    if (res.status === 409 && attempt < 50) continue;
    throw new Error(`POST ${path} answered ${res.status}: ${JSON.stringify(res.body).slice(0, 500)}`);
  }
}

function quota(entityType: 'Org' | 'Team' | 'User', entityId: string, limit: string) {
  return { entityType, entityId, metric: 'cost', limit, period: 'month', enforcement: 'hard' };
}

interface World {
  orgId: string;
  /** Team ids per level, top level first. */
  teams: string[][];
  userIds: string[];
  quotas: { org: string; team: string; users: number };
}

async function buildWorld(ctx: SuiteContext, http: HttpClient, userCount: number): Promise<World> {
  const orgId = await create(http, '/v1/orgs', {
    name: `Quota bench ${randomUUID().slice(0, 8)}`,
    baseCurrency: 'USD',
    timeZone: 'UTC',
  });
  const teams: string[][] = [];
  for (let level = 0, size = TOP_LEVEL_TEAMS; level < 3; level++, size *= BRANCHING) {
    const parents = level === 0 ? null : teams[level - 1];
    const ids = new Array<string>(size);
    await runPool(ids, SETUP_CONCURRENCY, async (_, i) => {
      ids[i] = await create(http, `/v1/orgs/${orgId}/teams`, {
        name: `Team L${level} #${i}`,
        ...(parents ? { parentTeamId: parents[i % parents.length] } : {}),
      });
    });
    teams.push(ids);
  }
  const leaves = teams[teams.length - 1];
  const userIds = new Array<string>(userCount);
  await runPool(userIds, SETUP_CONCURRENCY, async (_, i) => {
    userIds[i] = await create(http, `/v1/orgs/${orgId}/users`, {
      username: `quota.bench.${i}`,
      email: `quota.bench.${i}@bench.test`,
      primaryTeamId: leaves[i % leaves.length],
    });
  });
  ctx.log(
    `quota-check: ${teams.flat().length} teams (${teams.map((l) => l.length).join('/')}), ${userCount} users`,
  );
  const quotas = `/v1/orgs/${orgId}/quotas`;
  const org = await create(http, quotas, quota('Org', orgId, '100000000'));
  const team = await create(http, quotas, quota('Team', teams[0][0], '100000000'));
  await runPool(userIds, SETUP_CONCURRENCY, async (userId) => {
    await create(http, quotas, quota('User', userId, '1000000'));
  });
  ctx.log(`quota-check: ${userCount + 2} quotas (Org, Team ${teams[0][0]}, one per user)`);
  return { orgId, teams, userIds, quotas: { org, team, users: userCount } };
}

/**
 * Waits until every in-process projection has caught up with the head, so that a run does not pay for the
 * previous one's projection backlog (the server runs its projections in-process on embedded engines).
 */
async function projectionsIdle(http: HttpClient, deadlineMs = 300_000): Promise<number> {
  const elapsed = stopwatch();
  for (;;) {
    const res = await http.get<{ projections: Array<{ lag: string }> }>('/health');
    if (res.status === 200 && res.body.projections.every((p) => p.lag === '0')) return elapsed();
    if (elapsed() > deadlineMs) throw new Error(`projections still behind after ${deadlineMs} ms`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** One GET /metrics: the request-duration histogram of one route (cumulative counts by bucket bound) and process CPU. */
async function scrapeServer(
  http: HttpClient,
  method: string,
  route: string,
): Promise<{ buckets: Map<string, number>; cpuSeconds: number; systemSeconds: number }> {
  const res = await http.get<string>('/metrics');
  const text = typeof res.body === 'string' ? res.body : JSON.stringify(res.body);
  const out = new Map<string, number>();
  let cpuSeconds = NaN;
  let systemSeconds = NaN;
  for (const line of text.split('\n')) {
    if (line.startsWith('purser_process_cpu_seconds_total ')) cpuSeconds = Number(line.split(' ')[1]);
    if (line.startsWith('purser_process_cpu_system_seconds_total '))
      systemSeconds = Number(line.split(' ')[1]);
    if (!line.startsWith('purser_http_request_duration_seconds_bucket{')) continue;
    if (
      !line.includes(`method="${method}"`) ||
      !line.includes(`route="${route}"`) ||
      !line.includes('status="200"')
    )
      continue;
    const le = /le="([^"]+)"/.exec(line)?.[1];
    if (le) out.set(le, (out.get(le) ?? 0) + Number(line.slice(line.lastIndexOf(' ') + 1)));
  }
  return { buckets: out, cpuSeconds, systemSeconds };
}

/**
 * From two scrapes of the server's /metrics around a run: the CPU its process spent per request (main thread,
 * in-process projections, checkpoint threads), and the share of requests that the server itself took longer than
 * each bucket bound to handle (from Fastify's onRequest to its onResponse: no network, no generator).
 */
function serverSideOver(
  {
    buckets: before,
    cpuSeconds: cpuBefore,
    systemSeconds: sysBefore,
  }: Awaited<ReturnType<typeof scrapeServer>>,
  { buckets: after, cpuSeconds: cpuAfter, systemSeconds: sysAfter }: Awaited<ReturnType<typeof scrapeServer>>,
): Record<string, number> {
  const total = (after.get('+Inf') ?? 0) - (before.get('+Inf') ?? 0);
  const out: Record<string, number> = {
    requests: total,
    cpuMicrosPerRequest: total ? round(((cpuAfter - cpuBefore) * 1e6) / total, 1) : NaN,
    /** The part of it spent in the kernel (socket writes, WAL writes, checkpoints' fsync). */
    systemMicrosPerRequest: total ? round(((sysAfter - sysBefore) * 1e6) / total, 1) : NaN,
  };
  for (const [le, n] of after) {
    if (le === '+Inf' || Number(le) > 0.05) continue;
    out[`over${Number(le) * 1000}ms`] = total ? round((total - (n - (before.get(le) ?? 0))) / total, 4) : 0;
  }
  return out;
}

// ---------------------------------------------------------------------------------------------------------------
// Overspend: room for exactly 10, 100 checks at once
// ---------------------------------------------------------------------------------------------------------------

interface OverspendResult {
  engine: string;
  engines?: Record<string, string>;
  allowed: number;
  refused: number;
  errors: number;
  errorSamples?: string[];
  /** The Team quota's figures afterwards (reserved must equal the room). */
  quotaAfter?: { used: string; reserved: string; remaining: string };
  skipped?: string;
}

function labelled<T>(what: string, p: Promise<T>): Promise<T> {
  return p.catch((err: Error) => {
    throw new Error(`${what}: ${err.message}`);
  });
}

async function overspend(server: { url: string }, engine: string): Promise<OverspendResult> {
  const http = new HttpClient(server.url, OVERSPEND_CHECKS);
  try {
    const health = await labelled('GET /health', http.get<{ engines: Record<string, string> }>('/health'));
    const orgId = await create(http, '/v1/orgs', {
      name: `Overspend ${randomUUID().slice(0, 8)}`,
      baseCurrency: 'USD',
      timeZone: 'UTC',
    });
    const grand = await create(http, `/v1/orgs/${orgId}/teams`, { name: 'Grand' });
    const parent = await create(http, `/v1/orgs/${orgId}/teams`, { name: 'Parent', parentTeamId: grand });
    const child = await create(http, `/v1/orgs/${orgId}/teams`, { name: 'Child', parentTeamId: parent });
    const userId = await create(http, `/v1/orgs/${orgId}/users`, {
      username: `overspend.${randomUUID().slice(0, 8)}`,
      email: `${randomUUID()}@bench.test`,
      primaryTeamId: child,
    });
    const quotaId = await create(
      http,
      `/v1/orgs/${orgId}/quotas`,
      quota('Team', parent, String(OVERSPEND_ROOM)),
    );
    // Open every connection first, so that the checks leave together instead of behind connection set-up.
    await labelled(
      'GET /livez (opening connections)',
      Promise.all(Array.from({ length: OVERSPEND_CHECKS }, () => http.get('/livez'))),
    );
    const answers = await Promise.all(
      Array.from({ length: OVERSPEND_CHECKS }, () =>
        http
          .post(`/v1/orgs/${orgId}/quota-checks`, {
            userId,
            itemType: 'Agent',
            itemId: 'bench-agent',
            estimate: { amount: '1', currency: 'USD' },
          })
          .catch((err: Error) => ({ status: 0, body: err.message })),
      ),
    );
    const after = await labelled(
      'GET quota',
      http.get<{ used: string; reserved: string; remaining: string }>(`/v1/orgs/${orgId}/quotas/${quotaId}`),
    );
    const allowed = answers.filter((a) => a.status === 200).length;
    const refused = answers.filter((a) => a.status === 429).length;
    return {
      engine,
      engines: health.body?.engines,
      allowed,
      refused,
      errors: answers.length - allowed - refused,
      ...(answers.length > allowed + refused
        ? {
            errorSamples: answers
              .filter((a) => a.status !== 200 && a.status !== 429)
              .slice(0, 3)
              .map((a) => `${a.status} ${JSON.stringify(a.body).slice(0, 200)}`),
          }
        : {}),
      quotaAfter: {
        used: after.body.used,
        reserved: after.body.reserved,
        remaining: after.body.remaining,
      },
    };
  } finally {
    http.close();
  }
}

/** The overspend check on a fresh org server: embedded engines, or the read store on MONGODB_URL (own database). */
async function overspendOn(ctx: SuiteContext, engine: 'embedded' | 'mongodb'): Promise<OverspendResult> {
  let mongoUrl: URL | null = null;
  if (engine === 'mongodb') {
    const base = process.env.MONGODB_URL?.trim();
    if (!base) return { engine, allowed: 0, refused: 0, errors: 0, skipped: 'MONGODB_URL is not set' };
    mongoUrl = new URL(base);
    mongoUrl.pathname = `/purser_bench_quota_${Date.now().toString(36)}_${randomUUID().slice(0, 8)}`;
  }
  const server = await ServerProcess.start({
    PORT: '0',
    HOST: '127.0.0.1',
    LOG_LEVEL: 'silent',
    PURSER_DATA_DIR: join(ctx.dir, `overspend-${engine}`),
    ...(mongoUrl ? { MONGODB_URL: mongoUrl.toString() } : {}),
  });
  try {
    return await overspend(server, engine);
  } finally {
    await server.close();
    if (mongoUrl) {
      const conn = await mongoose.createConnection(mongoUrl.toString()).asPromise();
      await conn.dropDatabase().catch(() => undefined);
      await conn.close();
    }
  }
}

// ---------------------------------------------------------------------------------------------------------------
// The suite
// ---------------------------------------------------------------------------------------------------------------

function below(actual: number, max: number): TargetCheck {
  return { target: `< ${max}`, actual, pass: actual < max };
}

function summary(r: LoadResult) {
  const { target: _target, ...rest } = r;
  return rest;
}

export const quotaCheckSuite: Suite = {
  name: 'quota-check',
  description:
    'Quota check-and-reserve over HTTP at fixed arrival rates (open loop, forked generator) against the /livez floor; overspend with 100 checks at once',
  async run(ctx) {
    const userCount = ctx.count(1_000);
    const durationMs = Math.max(2_000, Math.round(10_000 * ctx.scale));
    const server = await ServerProcess.start({
      PORT: '0',
      HOST: '127.0.0.1',
      LOG_LEVEL: 'silent',
      PURSER_DATA_DIR: join(ctx.dir, 'embedded'),
      ...passedThrough(),
    });
    const http = new HttpClient(server.url, SETUP_CONCURRENCY);
    const generator = new Generator();
    const targets: Record<string, TargetCheck> = {};
    try {
      const setup = stopwatch();
      const world = await buildWorld(ctx, http, userCount);
      const setupMs = setup();
      const probe = await http.post<{ quotas?: unknown[] }>(`/v1/orgs/${world.orgId}/quota-checks`, {
        userId: world.userIds[0],
        itemType: 'Agent',
        itemId: 'bench-agent',
        estimate: { amount: ESTIMATE, currency: 'USD' },
      });
      if (probe.status !== 200 || probe.body.quotas?.length !== 3)
        throw new Error(
          `a check should meet 3 quotas: ${probe.status} ${JSON.stringify(probe.body).slice(0, 500)}`,
        );

      const latency: Record<string, unknown> = {};
      for (const [k, rate] of RUN_RATES.entries()) {
        const spec = {
          url: server.url,
          rate,
          warmupMs: WARMUP_MS,
          durationMs,
          maxSockets: MAX_SOCKETS,
          client: CLIENT,
          pacer: PACER,
        };
        const idleBeforeLivezMs = await projectionsIdle(http);
        ctx.log(`quota-check: GET /livez at ${rate}/s for ${WARMUP_MS} + ${durationMs} ms`);
        const livezBefore = await scrapeServer(http, 'GET', '/livez');
        const livez = await generator.run({ ...spec, target: 'livez', seed: 100 + k });
        const livezServerSide = serverSideOver(livezBefore, await scrapeServer(http, 'GET', '/livez'));
        ctx.log(
          `quota-check:   livez p50 ${livez.latency.p50Ms} p99 ${livez.latency.p99Ms} max ${livez.latency.maxMs} ms, ${livez.achievedRate}/s, ${livez.errors} errors`,
        );
        ctx.log(`quota-check:   server side: ${JSON.stringify(livezServerSide)}`);
        const idleBeforeCheckMs = await projectionsIdle(http);
        ctx.log(`quota-check: POST quota-checks at ${rate}/s for ${WARMUP_MS} + ${durationMs} ms`);
        const checkRoute = '/v1/orgs/:orgId/quota-checks';
        const histogramBefore = await scrapeServer(http, 'POST', checkRoute);
        const check = await generator.run({
          ...spec,
          target: 'check',
          orgId: world.orgId,
          userIds: world.userIds,
          seed: 200 + k,
        });
        const serverSide = serverSideOver(histogramBefore, await scrapeServer(http, 'POST', checkRoute));
        ctx.log(
          `quota-check:   check p50 ${check.latency.p50Ms} p99 ${check.latency.p99Ms} max ${check.latency.maxMs} ms, ${check.achievedRate}/s in the window (${check.answersPerSecOverall}/s overall), ${check.errors} errors, ${check.refused} refused`,
        );
        ctx.log(`quota-check:   server side (whole run, warm-up included): ${JSON.stringify(serverSide)}`);
        latency[`at${rate}PerSec`] = {
          check: summary(check),
          checkServerSide: serverSide,
          livez: summary(livez),
          livezServerSide,
          projectionCatchUpBeforeMs: {
            livez: round(idleBeforeLivezMs, 1),
            check: round(idleBeforeCheckMs, 1),
          },
        };
        targets[`checkP99MsAt${rate}PerSec`] = below(check.latency.p99Ms, TARGET_P99_MS[rate]);
        targets[`checkErrorsAt${rate}PerSec`] = equals(check.errors + check.refused, 0);
      }

      await projectionsIdle(http);
      const orgQuota = await labelled(
        'GET org quota',
        http.get(`/v1/orgs/${world.orgId}/quotas/${world.quotas.org}`),
      );

      await generator.stop();
      http.close();
      await server.close();

      ctx.log('quota-check: overspend, embedded engines (fresh server)');
      const embedded = await overspendOn(ctx, 'embedded');
      ctx.log(`quota-check:   ${JSON.stringify(embedded)}`);
      targets.overspendEmbeddedAllowed = equals(embedded.allowed, OVERSPEND_ROOM);

      ctx.log('quota-check: overspend, read store on MONGODB_URL (fresh server, own database)');
      const mongo = await overspendOn(ctx, 'mongodb');
      ctx.log(`quota-check:   ${JSON.stringify(mongo)}`);
      if (!mongo.skipped) targets.overspendMongoAllowed = equals(mongo.allowed, OVERSPEND_ROOM);

      return {
        figures: {
          world: {
            teams: world.teams.map((l) => l.length),
            users: userCount,
            quotasPerCheck: 3,
            quotasDefined: world.quotas.users + 2,
            setupMs: round(setupMs, 1),
          },
          server: {
            process: 'forked child (its own event loop; the bench process only orchestrates)',
            projections:
              PROJECTIONS === 'worker' ? 'forked apps/worker (PURSER_PROJECTIONS=worker)' : 'in-process',
          },
          generator: {
            process: 'forked child (open loop, latency from the scheduled send)',
            client: CLIENT === 'node-http' ? 'node:http keep-alive Agent' : 'undici (global fetch)',
            pacer:
              PACER === 'metronome'
                ? 'metronome thread (Atomics.wait, sub-millisecond)'
                : 'event-loop timers (1 ms)',
            maxSockets: MAX_SOCKETS,
            warmupMs: WARMUP_MS,
            durationMs,
            estimate: `${ESTIMATE} USD`,
          },
          latency,
          orgQuotaAfterLatencyRuns: {
            reserved: orgQuota.body?.reserved,
            remaining: orgQuota.body?.remaining,
          },
          overspend: [embedded, mongo],
        },
        targets,
      };
    } finally {
      await generator.stop();
      http.close();
      await server.close();
    }
  },
};

if (require.main === module && process.argv.includes(GENERATOR_FLAG)) generatorMain();
if (require.main === module && process.argv.includes(SERVER_FLAG)) serverMain();
