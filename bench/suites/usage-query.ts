import { HttpClient, HttpResponse } from '../lib/http';
import { Suite, equals } from '../lib/suite';
import { LatencySummary, perSecond, round, stopwatch, summarize } from '../lib/timing';
import {
  UsageGenerator,
  atMost,
  buildDirectory,
  healthFloor,
  ingestOverHttp,
  localDate,
  startServer,
} from './usage-ingest';

const DAY_MS = 86_400_000;
/** Requests before each measured series (JIT, statement caches), not measured. */
const WARMUP = 20;

/** Sequential GETs (one in flight) after a warm-up: latency per request. */
async function measure(
  http: HttpClient,
  n: number,
  path: string,
  check: (res: HttpResponse) => void,
): Promise<LatencySummary & { requestsPerSec: number }> {
  for (let i = 0; i < Math.min(WARMUP, n); i++) check(await http.get(path));
  const samples: number[] = [];
  const elapsed = stopwatch();
  for (let i = 0; i < n; i++) {
    const res = await http.get(path);
    check(res);
    samples.push(res.ms);
  }
  return { ...summarize(samples), requestsPerSec: perSecond(n, elapsed()) };
}

export const usageQuerySuite: Suite = {
  name: 'usage-query',
  description:
    'GET expenditure over a year of daily usage (1,000 users, 100 teams): groupBy=day and groupBy=month,team latency, /health as the floor',
  async run(ctx) {
    const total = ctx.count(500_000, 500);
    const server = await startServer(ctx.dir);
    const http = new HttpClient(server.url, 32);
    try {
      const dir = await buildDirectory(ctx, http, 1_000, 100);
      // One year of usage up to a minute ago, spread evenly: about 1,370 events a day at scale 1.
      const endMs = Date.now() - 60_000;
      const startMs = endMs - 365 * DAY_MS;
      const from = localDate(startMs);
      const to = localDate(endMs + DAY_MS);
      ctx.log(`usage-query: loading ${total} events over 365 days`);
      const load = await ingestOverHttp(
        ctx,
        server.url,
        http,
        new UsageGenerator(dir, total, startMs, endMs, 5),
        dir,
        total,
        { from, to },
        'usage-query load',
      );

      let dayRows = 0;
      let teamRows = 0;
      let counted = -1;
      const ok = (res: HttpResponse) => {
        if (res.status !== 200)
          throw new Error(`GET answered ${res.status}: ${JSON.stringify(res.body).slice(0, 300)}`);
      };
      ctx.log('usage-query: groupBy=day');
      const daily = await measure(
        http,
        500,
        `/v1/orgs/${dir.orgId}/expenditure?from=${from}&to=${to}&groupBy=day`,
        (res) => {
          ok(res);
          dayRows = res.body.rows.length;
          counted = res.body.total.count;
        },
      );
      ctx.log('usage-query: groupBy=month,team');
      const monthTeam = await measure(
        http,
        200,
        `/v1/orgs/${dir.orgId}/expenditure?from=${from}&to=${to}&groupBy=month,team`,
        (res) => {
          ok(res);
          teamRows = res.body.rows.length;
        },
      );
      const health = await healthFloor(http, 500, 1);
      return {
        figures: {
          events: total,
          days: 365,
          users: dir.users.length,
          teams: dir.teams.length,
          load: {
            ms: round(load.endToEndMs, 1),
            eventsPerSec: perSecond(total, load.endToEndMs),
            acceptedEventsPerSec: perSecond(total, load.acceptedMs),
          },
          daily: { ...daily, rows: dayRows, path: 'expenditure?from=<a year ago>&to=<today>&groupBy=day' },
          monthByTeam: {
            ...monthTeam,
            rows: teamRows,
            path: 'expenditure?from=<a year ago>&to=<today>&groupBy=month,team',
          },
          baselines: { health: { ...health, what: 'GET /health, one in flight' } },
        },
        targets: {
          dailyP99Ms: atMost(daily.p99Ms, 50),
          allCounted: equals(counted, total),
        },
      };
    } finally {
      http.close();
      await server.close();
    }
  },
};
