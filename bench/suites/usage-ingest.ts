import { randomUUID } from 'node:crypto';
import { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { loadConfig } from '@purser/platform';
import { RunningServer, startOrgServer } from '../../apps/org-server/src/server';
import { HttpClient, runPool } from '../lib/http';
import { cpuMicrosPer, cpuMs, startApiAndWorker } from '../lib/processes';
import { Random } from '../lib/random';
import { Suite, SuiteContext, TargetCheck, atLeast, equals } from '../lib/suite';
import { LatencySummary, perSecond, round, stopwatch, summarize } from '../lib/timing';
import { rawIngestFloor } from '../lib/raw-ingest';
import { adminEnv } from '../lib/auth';

/*
 * Usage ingest over HTTP, end to end: accepted by POST /v1/usage, appended, and projected so that
 * GET /v1/orgs/:orgId/expenditure sees it. Also the home of what the three usage benches share (directory set-up,
 * event generation, the raw POST client, waiting for the expenditure projection).
 */

export const TIME_ZONE = 'Europe/Paris';
export const BATCH = 500;
/** Batches in flight at once ("a few agents sending at the same time"). */
export const IN_FLIGHT = 4;
const DIRECTORY_CONCURRENCY = 32;
/** How long the expenditure projection may take to catch up after the last batch was accepted. */
const CATCH_UP_DEADLINE_MS = 10 * 60_000;
const ITEMS: ReadonlyArray<readonly [string, string]> = [
  ['Agent', 'research-agent'],
  ['Agent', 'support.bot'],
  ['Agent', 'code-reviewer'],
  ['Tool', 'web.search'],
  ['Tool', 'code-runner'],
  ['Tool', 'sql.query'],
  ['Assistant', 'helper'],
  ['Assistant', 'writer'],
  ['Prompt', 'summary-v2'],
  ['Prompt', 'triage'],
];
const MODELS = ['claude-sonnet-4', 'claude-haiku-4', 'gpt-4o', 'gpt-4o-mini'];

const EMPTY = Buffer.alloc(0);

export const atMost = (actual: number, max: number): TargetCheck => ({
  target: `<= ${max}`,
  actual,
  pass: actual <= max,
});

/** The embedded org server in this process, on a free port, quiet. */
export function startServer(dir: string, env: Record<string, string> = {}): Promise<RunningServer> {
  return startOrgServer(
    loadConfig({
      PORT: '0',
      HOST: '127.0.0.1',
      LOG_LEVEL: 'silent',
      PURSER_DATA_DIR: dir,
      PURSER_MIN_POSITION_TIMEOUT_MS: '30000',
      ...adminEnv(),
      ...env,
    }),
  );
}

export interface UsageDirectory {
  orgId: string;
  teams: string[];
  users: Array<{ id: string; teamId: string }>;
  ms: number;
}

async function command(http: HttpClient, path: string, body: unknown): Promise<{ id: string }> {
  for (let attempt = 0; ; attempt++) {
    const res = await http.post(path, body);
    if (res.status === 200 || res.status === 201) return res.body;
    // 409 stale: concurrent commands on one stream (the team tree); retried like a client would.
    if (res.status === 409 && attempt < 100) continue;
    throw new Error(`POST ${path} answered ${res.status}: ${JSON.stringify(res.body).slice(0, 500)}`);
  }
}

/** An org (EUR, Europe/Paris) with `teamCount` teams on two levels and `userCount` users spread over them. */
export async function buildDirectory(
  ctx: SuiteContext,
  http: HttpClient,
  userCount: number,
  teamCount: number,
): Promise<UsageDirectory> {
  const elapsed = stopwatch();
  const org = await command(http, '/v1/orgs', {
    name: 'Usage Bench',
    baseCurrency: 'EUR',
    timeZone: TIME_ZONE,
  });
  const roots = Math.max(1, Math.round(teamCount / 10));
  const teams: string[] = [];
  for (let i = 0; i < roots; i++)
    teams.push((await command(http, `/v1/orgs/${org.id}/teams`, { name: `Dept ${i}` })).id);
  const children = new Array<string>(teamCount - roots);
  await runPool(children, DIRECTORY_CONCURRENCY, async (_, i) => {
    const parentTeamId = teams[i % roots];
    children[i] = (await command(http, `/v1/orgs/${org.id}/teams`, { name: `Team ${i}`, parentTeamId })).id;
  });
  teams.push(...children);
  const users = new Array<{ id: string; teamId: string }>(userCount);
  await runPool(users, DIRECTORY_CONCURRENCY, async (_, i) => {
    const teamId = teams[i % teams.length];
    const u = await command(http, `/v1/orgs/${org.id}/users`, {
      username: `bench.user.${i}`,
      email: `bench.user.${i}@bench.test`,
      primaryTeamId: teamId,
    });
    users[i] = { id: u.id, teamId };
  });
  const ms = elapsed();
  ctx.log(`directory: ${userCount} users in ${teamCount} teams in ${Math.round(ms)} ms`);
  return { orgId: org.id, teams, users, ms };
}

/**
 * Usage events as agents send them, serialized straight to JSON text (the client's cost stays small next to the
 * server's): random users, items and models, 80% EUR and 20% USD, amounts with six decimals, occurredAt spread
 * evenly over [startMs, endMs).
 */
export class UsageGenerator {
  private readonly rng: Random;
  private produced = 0;

  constructor(
    private readonly dir: UsageDirectory,
    private readonly total: number,
    private readonly startMs: number,
    private readonly endMs: number,
    seed = 11,
  ) {
    this.rng = new Random(seed);
  }

  /** One event as JSON text. */
  next(): string {
    const r = this.rng;
    const user = this.dir.users[r.int(0, this.dir.users.length - 1)];
    const [itemType, itemId] = ITEMS[r.int(0, ITEMS.length - 1)];
    const at = this.startMs + Math.floor(((this.endMs - this.startMs) * this.produced++) / this.total);
    const micros = r.int(1, 2_000_000);
    const amount = `${Math.floor(micros / 1e6)}.${String(micros % 1e6).padStart(6, '0')}`;
    return (
      `{"eventId":"${randomUUID()}","orgId":"${this.dir.orgId}","userId":"${user.id}","itemType":"${itemType}",` +
      `"itemId":"${itemId}","amount":"${amount}","currency":"${r.next() < 0.8 ? 'EUR' : 'USD'}",` +
      `"inputTokens":${r.int(10, 8000)},"outputTokens":${r.int(1, 2000)},"model":"${MODELS[r.int(0, MODELS.length - 1)]}",` +
      `"occurredAt":"${new Date(at).toISOString()}"}`
    );
  }

  /** A batch body for POST /v1/usage. */
  batch(n: number): string {
    const parts = new Array<string>(n);
    for (let i = 0; i < n; i++) parts[i] = this.next();
    return `{"events":[${parts.join(',')}]}`;
  }
}

export interface HealthSample {
  atMs: number;
  head: bigint;
  checkpoint: bigint;
  lag: bigint;
}

interface Health {
  status: string;
  head: string | null;
  projections: Array<{ name: string; checkpoint: string; lag: string; state: string; error?: string }>;
}

/** The expenditure projection's checkpoint and lag from /health; throws when a projection has failed. */
export async function expenditureHealth(
  http: HttpClient,
): Promise<{ head: bigint; checkpoint: bigint; lag: bigint }> {
  const res = await http.get<Health>('/health');
  const failed = res.body?.projections?.filter((p) => p.state === 'failed') ?? [];
  if (failed.length) {
    throw new Error(
      `projection failed: ${failed.map((p) => `${p.name}: ${p.error ?? 'unknown error'}`).join('; ')}`,
    );
  }
  const p = res.body?.projections?.find((x) => x.name === 'expenditure');
  if (!p || res.body.head === null)
    throw new Error(`/health answered ${res.status}: ${JSON.stringify(res.body)}`);
  return { head: BigInt(res.body.head), checkpoint: BigInt(p.checkpoint), lag: BigInt(p.lag) };
}

/** Dates for from/to in the org's zone. */
export const localDate = (ms: number) =>
  new Intl.DateTimeFormat('en-CA', {
    timeZone: TIME_ZONE,
    year: 'numeric',
    month: '2-digit',
    day: '2-digit',
  }).format(new Date(ms));

/** How often the drain waits poll the org server (see waitForCount). */
export const POLL_MS = 100;

/**
 * Waits until GET expenditure over [from, to] counts `expected` records. It polls /health until the expenditure
 * projection has reached the head, and the head is at least `minHead` when given, and only then asks the report
 * (which reads every bucket of the range). Answers the elapsed ms and the count. Every POLL_MS: a /health costs the
 * API about 2 ms of CPU (measured at 50/s), so polling every 20 ms took about 4% of this 2-core machine from the
 * pipeline being measured; 100 ms adds at most 100 ms to a drain of a minute or more.
 */
export async function waitForCount(
  http: HttpClient,
  orgId: string,
  range: { from: string; to: string },
  expected: number,
  { minHead = -1n, deadlineMs = CATCH_UP_DEADLINE_MS } = {},
): Promise<{ ms: number; count: number }> {
  const elapsed = stopwatch();
  for (;;) {
    const h = await expenditureHealth(http);
    let pause = POLL_MS;
    if (h.lag === 0n && h.head >= minHead) {
      const res = await http.get(`/v1/orgs/${orgId}/expenditure?from=${range.from}&to=${range.to}`);
      if (res.status !== 200)
        throw new Error(`expenditure answered ${res.status}: ${JSON.stringify(res.body)}`);
      const count = res.body.total.count as number;
      if (count >= expected) return { ms: elapsed(), count };
      pause = 250;
    }
    if (elapsed() > deadlineMs)
      throw new Error(`the expenditure projection did not count ${expected} records in time`);
    await new Promise((r) => setTimeout(r, pause));
  }
}

const lastPosition = (accepted: Array<{ position: bigint }>) =>
  accepted.reduce((m, a) => (a.position > m ? a.position : m), -1n);

export interface IngestRun {
  events: number;
  batches: number;
  acceptedMs: number;
  endToEndMs: number;
  recorded: number;
  duplicates: number;
  rejected: number;
  requestLatency: LatencySummary;
  lag: { samples: number; maxPositions: number; maxMs: number; atEndMs: number };
  count: number;
}

/**
 * Sends `total` events in batches of 500 with IN_FLIGHT requests in flight, sampling the projection lag from
 * /health every 100 ms, then waits until the expenditure report counts them all.
 */
export async function ingestOverHttp(
  ctx: SuiteContext,
  baseUrl: string,
  http: HttpClient,
  gen: UsageGenerator,
  dir: UsageDirectory,
  total: number,
  range: { from: string; to: string },
  label: string,
): Promise<IngestRun> {
  const poster = new HttpClient(baseUrl, IN_FLIGHT);
  const batches = Math.ceil(total / BATCH);
  // Bodies are generated before the clock starts, so the generator's own CPU does not compete with the server's.
  const bodies = Array.from({ length: batches }, (_, i) =>
    Buffer.from(gen.batch(Math.min(BATCH, total - i * BATCH))),
  );
  const accepted: Array<{ position: bigint; atMs: number }> = [];
  const latencies: number[] = [];
  let recorded = 0;
  let duplicates = 0;
  let rejected = 0;
  const samples: HealthSample[] = [];
  const clock = stopwatch();
  let sampling = true;
  let samplerError: Error | null = null;
  const sampler = (async () => {
    while (sampling) {
      const h = await expenditureHealth(http);
      samples.push({ atMs: clock(), ...h });
      await new Promise((r) => setTimeout(r, 100));
    }
  })().catch((err: Error) => {
    samplerError = err;
  });
  let sent = 0;
  let acceptedMs: number;
  let endToEndMs: number;
  let done: { ms: number; count: number };
  try {
    await runPool(
      Array.from({ length: batches }, (_, i) => i),
      IN_FLIGHT,
      async (i) => {
        if (samplerError) throw samplerError;
        const n = Math.min(BATCH, total - i * BATCH);
        const res = await poster.postRaw('/v1/usage', bodies[i]);
        bodies[i] = EMPTY;
        if (res.status !== 200)
          throw new Error(`POST /v1/usage answered ${res.status}: ${JSON.stringify(res.body).slice(0, 500)}`);
        latencies.push(res.ms);
        recorded += res.body.recorded;
        duplicates += res.body.duplicates;
        rejected += res.body.rejected;
        if (res.body.rejected) {
          const first = res.body.results.find((r: { status: string }) => r.status === 'rejected');
          throw new Error(`usage rejected: ${JSON.stringify(first)}`);
        }
        if (res.body.position !== null) accepted.push({ position: BigInt(res.body.position), atMs: clock() });
        sent += n;
        if (sent % Math.max(BATCH, Math.floor(total / 10 / BATCH) * BATCH) === 0) {
          ctx.log(`${label}: ${sent}/${total} accepted (${perSecond(sent, clock())}/s)`);
        }
      },
    );
    acceptedMs = clock();
    done = await waitForCount(http, dir.orgId, range, total, { minHead: lastPosition(accepted) });
    endToEndMs = clock();
  } finally {
    poster.close();
    sampling = false;
    await sampler;
  }
  if (samplerError) throw samplerError;

  // Time lag at a sample: how long ago the oldest accepted batch the projection had not reached was accepted.
  accepted.sort((a, b) => a.atMs - b.atMs);
  let maxMs = 0;
  let maxPositions = 0n;
  for (const s of samples) {
    if (s.lag > maxPositions) maxPositions = s.lag;
    const oldest = accepted.find((a) => a.atMs <= s.atMs && a.position > s.checkpoint);
    if (oldest && s.atMs - oldest.atMs > maxMs) maxMs = s.atMs - oldest.atMs;
  }
  const lastAccepted = accepted.reduce((m, a) => (a.position > m.position ? a : m), accepted[0]);
  const atEndMs = endToEndMs - (lastAccepted?.atMs ?? acceptedMs);
  return {
    events: total,
    batches,
    acceptedMs,
    endToEndMs,
    recorded,
    duplicates,
    rejected,
    requestLatency: summarize(latencies),
    lag: {
      samples: samples.length,
      maxPositions: Number(maxPositions),
      maxMs: round(Math.max(maxMs, atEndMs), 1),
      atEndMs: round(atEndMs, 1),
    },
    count: done.count,
  };
}

/** The HTTP floor: a bare Fastify server (the org server's HTTP stack) parsing the same batches and answering a same-sized result list. */
async function fastifyEchoFloor(gen: UsageGenerator, total: number): Promise<Record<string, unknown>> {
  // fastify ships with @nestjs/platform-fastify; loaded lazily so the other suites never pay for it.
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const fastify = require('fastify') as (opts: object) => any;
  const app = fastify({ bodyLimit: 16 * 1024 * 1024 });
  app.post('/v1/usage', async (req: { body: { events: Array<{ eventId: string }> } }) => {
    const results = req.body.events.map((e, i) => ({
      eventId: e.eventId,
      status: 'recorded',
      position: String(i),
    }));
    return {
      results,
      recorded: results.length,
      duplicates: 0,
      rejected: 0,
      position: String(results.length),
    };
  });
  await app.listen({ port: 0, host: '127.0.0.1' });
  const port = (app.server.address() as AddressInfo).port;
  const poster = new HttpClient(`http://127.0.0.1:${port}`, IN_FLIGHT);
  const batches = Math.ceil(total / BATCH);
  const latencies: number[] = [];
  try {
    const elapsed = stopwatch();
    await runPool(
      Array.from({ length: batches }, (_, i) => Math.min(BATCH, total - i * BATCH)),
      IN_FLIGHT,
      async (n) => {
        const res = await poster.postRaw('/v1/usage', gen.batch(n));
        if (res.status !== 200) throw new Error(`echo answered ${res.status}`);
        latencies.push(res.ms);
      },
    );
    const ms = elapsed();
    return {
      events: total,
      ms: round(ms, 1),
      eventsPerSec: perSecond(total, ms),
      requestLatency: summarize(latencies),
    };
  } finally {
    poster.close();
    await app.close();
  }
}

/** GET /health with IN_FLIGHT requests in flight: the org server's own per-request floor. */
export async function healthFloor(http: HttpClient, n: number, concurrency = IN_FLIGHT) {
  const latencies: number[] = [];
  for (let i = 0; i < 50; i++) await http.get('/health');
  const elapsed = stopwatch();
  await runPool(Array.from({ length: n }), concurrency, async () => {
    const res = await http.get('/health');
    if (res.status !== 200) throw new Error(`/health answered ${res.status}`);
    latencies.push(res.ms);
  });
  return { requests: n, concurrency, requestsPerSec: perSecond(n, elapsed()), latency: summarize(latencies) };
}

export const usageIngestSuite: Suite = {
  name: 'usage-ingest',
  description:
    'POST /v1/usage in batches of 500, 4 in flight, embedded engines: accepted and end-to-end (projected, seen by GET expenditure) events/s, projection lag',
  async run(ctx) {
    const total = ctx.count(1_000_000, BATCH);
    const server = await startApiAndWorker(ctx.dir);
    const http = new HttpClient(server.api.url, DIRECTORY_CONCURRENCY);
    try {
      const dir = await buildDirectory(ctx, http, 1_000, 100);
      const endMs = Date.now() - 60_000;
      const startMs = endMs - 30 * 86_400_000;
      const range = { from: localDate(startMs - 86_400_000), to: localDate(Date.now() + 86_400_000) };
      ctx.log(`usage-ingest: HTTP floor (bare Fastify echo of the same batches)`);
      const floor = await fastifyEchoFloor(new UsageGenerator(dir, total, startMs, endMs, 99), total);
      const health = await healthFloor(http, 2_000);
      // Settle the directory projections before measuring.
      await waitForCount(http, dir.orgId, range, 0);
      ctx.log(`usage-ingest: sending ${total} events`);
      const cpu0 = {
        api: cpuMs(server.api.child.pid),
        worker: cpuMs(server.worker.child.pid),
        bench: process.cpuUsage(),
      };
      const run = await ingestOverHttp(
        ctx,
        server.api.url,
        http,
        new UsageGenerator(dir, total, startMs, endMs),
        dir,
        total,
        range,
        'usage-ingest',
      );
      const acceptedPerSec = perSecond(total, run.acceptedMs);
      const endToEndPerSec = perSecond(total, run.endToEndMs);
      const bench = process.cpuUsage(cpu0.bench);
      const cpuMicrosPerEvent = {
        api: cpuMicrosPer(cpu0.api, cpuMs(server.api.child.pid), total),
        worker: cpuMicrosPer(cpu0.worker, cpuMs(server.worker.child.pid), total),
        generator: round((bench.user + bench.system) / total, 1),
      };
      ctx.log(`usage-ingest: storage floor (the same writes with raw better-sqlite3, no framework)`);
      const rawGen = new UsageGenerator(dir, total, startMs, endMs, 98);
      const rawBodies = Array.from({ length: Math.ceil(total / BATCH) }, (_, i) =>
        Buffer.from(rawGen.batch(Math.min(BATCH, total - i * BATCH))),
      );
      // The team tree as buildDirectory made it: the first tenth of the teams are roots, each other team's parent
      // is a root in turn.
      const roots = Math.max(1, Math.round(dir.teams.length / 10));
      const paths = new Map(
        dir.users.map((u) => {
          const j = dir.teams.indexOf(u.teamId);
          return [u.id, j < roots ? [u.teamId] : [u.teamId, dir.teams[(j - roots) % roots]]];
        }),
      );
      const rawFloor = rawIngestFloor(
        rawBodies,
        {
          orgId: dir.orgId,
          timeZone: TIME_ZONE,
          baseCurrency: 'EUR',
          teamPath: (userId) => paths.get(userId)!,
        },
        join(ctx.dir, 'raw-floor'),
      );
      return {
        figures: {
          directory: { users: dir.users.length, teams: dir.teams.length, ms: round(dir.ms, 1) },
          events: total,
          batchSize: BATCH,
          inFlight: IN_FLIGHT,
          accepted: {
            ms: round(run.acceptedMs, 1),
            eventsPerSec: acceptedPerSec,
            requestLatency: run.requestLatency,
          },
          endToEnd: { ms: round(run.endToEndMs, 1), eventsPerSec: endToEndPerSec },
          processes:
            'org server (PURSER_PROJECTIONS=worker) and worker as child processes; this process generates',
          cpuMicrosPerEvent,
          projectionLag: run.lag,
          recorded: run.recorded,
          duplicates: run.duplicates,
          rejected: run.rejected,
          countedByQuery: run.count,
          baselines: {
            fastifyEcho: {
              ...floor,
              what: 'bare Fastify parsing the same 500-event batches and answering a same-sized result list',
            },
            health: {
              ...health,
              what: 'GET /health on the org server: Nest routing plus one event store head and checkpoint read',
            },
            rawStorage: rawFloor,
          },
        },
        targets: {
          endToEndEventsPerSec: atLeast(endToEndPerSec, 25_000),
          acceptedEventsPerSec: atLeast(acceptedPerSec, 25_000),
          maxProjectionLagMs: atMost(run.lag.maxMs, 2_000),
          allCounted: equals(run.count, total),
        },
      };
    } finally {
      http.close();
      await server.stop();
    }
  },
};
