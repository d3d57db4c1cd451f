import { loadConfig } from '@purser/platform';
import { startOrgServer } from '../../apps/org-server/src/server';
import { adminEnv } from '../lib/auth';
import { HttpClient, HttpResponse, runPool } from '../lib/http';
import { Random } from '../lib/random';
import { Suite, SuiteContext, equals } from '../lib/suite';
import { LatencySummary, perSecond, round, stopwatch, summarize } from '../lib/timing';

/** Requests in flight while issuing commands. */
const CONCURRENCY = 32;
const TOP_LEVEL_TEAMS = 10;
const BRANCHING = 3;
const PAGE_SIZE = 500;
/** Requests before each measured query series (JIT, statement caches), not measured. */
const WARMUP = 20;
/** How long projections may take to catch up with the last command. */
const CATCH_UP_DEADLINE_MS = 10 * 60_000;

interface CommandAnswer {
  id: string;
  position: string;
  revision: string;
  events: string[];
}

interface Page<T> {
  items: T[];
  nextCursor: string | null;
}

/** Issues commands, retries version clashes (409 stale revision: concurrent writers on one stream), tracks positions. */
class CommandClient {
  maxPosition = -1n;
  conflictRetries = 0;

  constructor(private readonly http: HttpClient) {}

  async post(path: string, body: unknown, latencies?: number[]): Promise<CommandAnswer> {
    for (let attempt = 0; ; attempt++) {
      const res = await this.http.post<CommandAnswer>(path, body);
      latencies?.push(res.ms);
      if (res.status === 201 || res.status === 200) {
        const position = BigInt(res.body.position);
        if (position > this.maxPosition) this.maxPosition = position;
        return res.body;
      }
      if (res.status === 409 && isStaleRevision(res) && attempt < 100) {
        this.conflictRetries++;
        continue;
      }
      throw new Error(`POST ${path} answered ${res.status}: ${JSON.stringify(res.body).slice(0, 500)}`);
    }
  }
}

function isStaleRevision(res: HttpResponse): boolean {
  const details = (res.body as { details?: Array<{ problem?: string }> } | undefined)?.details;
  return Array.isArray(details) && details.some((d) => d.problem === 'stale');
}

/** Team counts per level: 10 top-level teams, then three times as many per level, the remainder in the last. */
export function teamLevels(total: number): number[] {
  const levels: number[] = [];
  let size = Math.min(TOP_LEVEL_TEAMS, total);
  for (let left = total; left > 0; size *= BRANCHING) {
    const n = Math.min(size, left);
    levels.push(n);
    left -= n;
  }
  return levels;
}

function commandFigures(count: number, ms: number, latencies: number[], retries: number) {
  return {
    count,
    ms: round(ms, 1),
    commandsPerSec: perSecond(count, ms),
    conflictRetries: retries,
    requestLatency: summarize(latencies),
  };
}

/** Sequential GETs (one in flight), after a warm-up: latency per request and requests/s. */
async function measureGets(
  http: HttpClient,
  n: number,
  path: (i: number) => string,
  onBody?: (body: any) => void,
): Promise<LatencySummary & { requestsPerSec: number }> {
  for (let i = 0; i < Math.min(WARMUP, n); i++) await expectOk(http, path(i));
  const samples: number[] = [];
  const elapsed = stopwatch();
  for (let i = 0; i < n; i++) {
    const res = await expectOk(http, path(i));
    samples.push(res.ms);
    onBody?.(res.body);
  }
  return { ...summarize(samples), requestsPerSec: perSecond(n, elapsed()) };
}

async function expectOk<T = any>(http: HttpClient, path: string): Promise<HttpResponse<T>> {
  const res = await http.get<T>(path);
  if (res.status !== 200)
    throw new Error(`GET ${path} answered ${res.status}: ${JSON.stringify(res.body).slice(0, 500)}`);
  return res;
}

async function createTeams(ctx: SuiteContext, cmd: CommandClient, orgId: string, levels: number[]) {
  const byLevel: string[][] = [];
  const latencies: number[] = [];
  const elapsed = stopwatch();
  for (let level = 0; level < levels.length; level++) {
    const ids = new Array<string>(levels[level]);
    const parents = level === 0 ? null : byLevel[level - 1];
    await runPool(ids, CONCURRENCY, async (_, i) => {
      const parentTeamId = parents ? parents[i % parents.length] : null;
      const answer = await cmd.post(
        `/v1/orgs/${orgId}/teams`,
        { name: `Team L${level} #${i}`, ...(parentTeamId ? { parentTeamId } : {}) },
        latencies,
      );
      ids[i] = answer.id;
    });
    byLevel.push(ids);
    ctx.log(`directory: teams level ${level}: ${ids.length} created`);
  }
  return { byLevel, ms: elapsed(), latencies };
}

async function createUsers(
  ctx: SuiteContext,
  cmd: CommandClient,
  orgId: string,
  teams: string[],
  count: number,
) {
  const ids = new Array<string>(count);
  const latencies: number[] = [];
  const elapsed = stopwatch();
  let done = 0;
  await runPool(ids, CONCURRENCY, async (_, i) => {
    const answer = await cmd.post(
      `/v1/orgs/${orgId}/users`,
      {
        username: `bench.user.${i}`,
        email: `bench.user.${i}@bench.test`,
        displayName: `Bench User ${i}`,
        primaryTeamId: teams[i % teams.length],
      },
      latencies,
    );
    ids[i] = answer.id;
    if (++done % Math.max(1, Math.floor(count / 10)) === 0) {
      ctx.log(`directory: users ${done}/${count} (${perSecond(done, elapsed())}/s)`);
    }
  });
  return { ids, ms: elapsed(), latencies };
}

async function waitForProjections(http: HttpClient, orgId: string, position: bigint): Promise<number> {
  const elapsed = stopwatch();
  for (;;) {
    const res = await http.get(`/v1/orgs/${orgId}/users?limit=1&minPosition=${position}`);
    if (res.status === 200) return elapsed();
    if (res.status !== 503 || elapsed() > CATCH_UP_DEADLINE_MS) {
      throw new Error(
        `projections did not reach position ${position}: ${res.status} ${JSON.stringify(res.body)}`,
      );
    }
  }
}

async function listAllUsers(http: HttpClient, orgId: string) {
  const samples: number[] = [];
  const seen = new Set<string>();
  let cursor: string | null = null;
  const elapsed = stopwatch();
  do {
    const query: string = cursor ? `&cursor=${encodeURIComponent(cursor)}` : '';
    const res: HttpResponse<Page<{ id: string }>> = await expectOk(
      http,
      `/v1/orgs/${orgId}/users?limit=${PAGE_SIZE}${query}`,
    );
    samples.push(res.ms);
    for (const u of res.body.items) seen.add(u.id);
    cursor = res.body.nextCursor;
  } while (cursor);
  const ms = elapsed();
  return {
    pageSize: PAGE_SIZE,
    pages: samples.length,
    usersListed: seen.size,
    ms: round(ms, 1),
    pagesPerSec: round((samples.length * 1000) / ms, 2),
    usersPerSec: perSecond(seen.size, ms),
    pageLatency: summarize(samples),
  };
}

export const directorySuite: Suite = {
  name: 'directory',
  description:
    'The org server over HTTP: teams and users through the command path, then list and get queries',
  async run(ctx) {
    const teamCount = ctx.count(1_000, TOP_LEVEL_TEAMS);
    const userCount = ctx.count(100_000);
    const levels = teamLevels(teamCount);
    const server = await startOrgServer(
      loadConfig({
        PORT: '0',
        HOST: '127.0.0.1',
        LOG_LEVEL: 'silent',
        PURSER_DATA_DIR: ctx.dir,
        ...adminEnv(),
      }),
    );
    const http = new HttpClient(server.url, CONCURRENCY);
    const rng = new Random(7);
    try {
      const cmd = new CommandClient(http);
      const org = await cmd.post('/v1/orgs', { name: 'Bench Org' });

      const teams = await createTeams(ctx, cmd, org.id, levels);
      const teamRetries = cmd.conflictRetries;
      const allTeams = teams.byLevel.flat();
      const users = await createUsers(ctx, cmd, org.id, allTeams, userCount);
      const userRetries = cmd.conflictRetries - teamRetries;

      ctx.log(`directory: waiting for projections to reach position ${cmd.maxPosition}`);
      const catchUpMs = await waitForProjections(http, org.id, cmd.maxPosition);

      ctx.log('directory: GET /health x2000');
      const health = await measureGets(http, 2_000, () => '/health');
      ctx.log('directory: GET user x2000');
      const getUser = await measureGets(
        http,
        2_000,
        () => `/v1/orgs/${org.id}/users/${users.ids[Math.floor(rng.next() * users.ids.length)]}`,
      );
      const midLevel = Math.floor((levels.length - 1) / 2);
      const midTeams = teams.byLevel[midLevel];
      let teamItems = 0;
      ctx.log(`directory: list users of a level-${midLevel} team (with sub-teams) x500`);
      const listByTeam = await measureGets(
        http,
        500,
        () => `/v1/orgs/${org.id}/users?teamId=${rng.pick(midTeams)}`,
        (body: Page<unknown>) => (teamItems += body.items.length),
      );
      ctx.log(`directory: list all users, ${PAGE_SIZE} per page`);
      const listAll = await listAllUsers(http, org.id);

      return {
        figures: {
          concurrency: CONCURRENCY,
          teams: {
            ...commandFigures(teamCount, teams.ms, teams.latencies, teamRetries),
            levelSizes: levels,
            depth: levels.length,
          },
          users: commandFigures(userCount, users.ms, users.latencies, userRetries),
          projectionCatchUpMs: round(catchUpMs, 1),
          lastPosition: cmd.maxPosition.toString(),
          queries: {
            health,
            getUser,
            listByMidLevelTeam: {
              ...listByTeam,
              teamLevel: midLevel,
              includeSubTeams: true,
              limit: 50,
              meanItems: round(teamItems / 500, 1),
            },
            listAllUsers: listAll,
          },
        },
        targets: { allUsersListed: equals(listAll.usersListed, userCount) },
      };
    } finally {
      http.close();
      await server.close();
    }
  },
};
