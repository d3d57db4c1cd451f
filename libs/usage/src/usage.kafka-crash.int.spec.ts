import { ChildProcess, execFile, spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { AddressInfo, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { Admin, AssignerProtocol, Kafka, logLevel } from 'kafkajs';
import { KafkaBus } from '@purser/engines/kafka/kafka-bus';
import { TestServer, startTestServer } from '@purser/testkit';
import { describeEngine, eventually, uniqueSuffix } from '@purser/testkit';

/**
 * The issue's acceptance test: usage arrives twice, over HTTP and Kafka at once, while the worker that consumes Kafka
 * and runs the projections is killed (SIGKILL) half-way and replaced. Afterwards every usage event counts exactly
 * once and every report adds up, to the last of nine decimals, to what was sent.
 *
 * The event store and read store are the embedded SQLite files in a temporary directory shared by the org server
 * (in this process) and the worker (a real child process; WAL mode lets both open the files, and the worker polls
 * the event store for what the org server appends). MONGODB_URL and EVENTSTORE_URL are deliberately not used: the
 * point here is Kafka's at-least-once delivery and a crash of the consumer, not the stores, which have their own
 * production suites (usage.production.int.spec.ts runs the usage API on MongoDB).
 */

const ROOT = resolve(__dirname, '../../..');
const WORKER_MAIN = join(ROOT, 'dist/apps/worker/src/main.js');
const TIME_ZONE = 'Europe/Paris';
const EVENTS = 10_000;
const USERS = 50;
const HTTP_BATCH = 500;
/** Copies per chunk: about half go over HTTP (one batch), half to Kafka (one produce call). */
const CHUNK = 2 * HTTP_BATCH;
const USD_RATE = '0.917346251';
const ITEMS: Array<[string, string]> = [
  ['Agent', 'research-agent'],
  ['Agent', 'support.bot'],
  ['Tool', 'web.search'],
  ['Tool', 'code-runner'],
  ['Assistant', 'helper'],
  ['Prompt', 'summary-v2'],
];
/**
 * A worker serves /health only once its usage consumer has joined the group (UsageConsumer awaits subscribe at
 * bootstrap). After a SIGKILL the group waits for the dead member's session to expire (30 s by default) before
 * the new member gets partitions, so both waits allow well over that.
 */
const GROUP_JOIN_TIMEOUT_MS = 90_000;
/** How long the consumer group and the projections may take to drain everything after the last send. */
const DRAIN_TIMEOUT_MS = 150_000;

// ---- exact decimal arithmetic, independent of the code under test ----

const NANOS = 1_000_000_000n;

function nanosOf(amount: string): bigint {
  const m = /^(\d+)(?:\.(\d{1,9}))?$/.exec(amount);
  if (!m) throw new Error(`bad amount ${amount}`);
  return BigInt(m[1]) * NANOS + BigInt((m[2] ?? '').padEnd(9, '0'));
}

function decimal(nanos: bigint): string {
  const frac = (nanos % NANOS).toString().padStart(9, '0').replace(/0+$/, '');
  return `${nanos / NANOS}${frac ? `.${frac}` : ''}`;
}

/** amount x rate rounded half-to-even to nine decimals (the documented rule for one record's base amount). */
function convert(nanos: bigint, rate: string): bigint {
  const [i, f = ''] = rate.split('.');
  const scale = 10n ** BigInt(f.length);
  const product = nanos * (BigInt(i) * scale + BigInt(f || '0'));
  let q = product / scale;
  const twice = (product % scale) * 2n;
  if (twice > scale || (twice === scale && q % 2n === 1n)) q += 1n;
  return q;
}

class Figure {
  amounts = new Map<string, bigint>();
  base = 0n;
  unconverted = new Map<string, bigint>();
  count = 0;

  add(currency: string, nanos: bigint, base: bigint | null): void {
    this.amounts.set(currency, (this.amounts.get(currency) ?? 0n) + nanos);
    if (base === null) this.unconverted.set(currency, (this.unconverted.get(currency) ?? 0n) + nanos);
    else this.base += base;
    this.count++;
  }

  /** The figure as the API shows it. */
  view() {
    const list = (m: Map<string, bigint>) =>
      [...m.entries()]
        .sort(([x], [y]) => (x < y ? -1 : 1))
        .map(([currency, v]) => ({ amount: decimal(v), currency }));
    return {
      amounts: list(this.amounts),
      base: {
        amount: decimal(this.base),
        currency: 'EUR',
        complete: this.unconverted.size === 0,
        unconverted: list(this.unconverted),
      },
      count: this.count,
    };
  }
}

type FigureView = ReturnType<Figure['view']>;

/** Keeps only the figure of a report row, for comparison. */
const figureOf = (r: FigureView): FigureView => ({ amounts: r.amounts, base: r.base, count: r.count });

// ---- test data ----

/** mulberry32: the same data shapes for a given seed (printed, to replay a failure). */
function random(seed: number) {
  let s = seed >>> 0;
  const next = () => {
    let t = (s = (s + 0x6d2b79f5) >>> 0);
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  return {
    next,
    int: (min: number, max: number) => min + Math.floor(next() * (max - min + 1)),
    pick: <T>(xs: readonly T[]) => xs[Math.floor(next() * xs.length)],
  };
}

/** A random amount with 0 to 9 decimals: "0", "12.5", "0.000000001", "87.123456789"... */
function randomAmount(rnd: ReturnType<typeof random>): string {
  const whole = rnd.pick([0, 0, 0, 1, 2, 7, 13, 99, 250]);
  const digits = rnd.int(0, 9);
  let frac = '';
  for (let i = 0; i < digits; i++) frac += String(rnd.int(0, 9));
  return digits ? `${whole}.${frac}` : String(whole);
}

const localDay = new Intl.DateTimeFormat('en-CA', {
  timeZone: TIME_ZONE,
  year: 'numeric',
  month: '2-digit',
  day: '2-digit',
});

async function freePort(): Promise<number> {
  const srv = createServer();
  await new Promise<void>((ok) => srv.listen(0, '127.0.0.1', ok));
  const { port } = srv.address() as AddressInfo;
  await new Promise<void>((ok) => srv.close(() => ok()));
  return port;
}

/** A consumer group with a member subscribed to `topic`, and what each member subscribes to and was assigned. */
async function groupConsuming(admin: Admin, topic: string) {
  const ids = (await admin.listGroups()).groups
    .filter((g) => g.protocolType === 'consumer')
    .map((g) => g.groupId);
  if (ids.length === 0) return null;
  const { groups } = await admin.describeGroups(ids);
  const decoded = groups.map((g) => ({
    groupId: g.groupId,
    state: g.state,
    members: g.members.map((m) => ({
      memberId: m.memberId,
      subscribed: m.memberMetadata.length
        ? (AssignerProtocol.MemberMetadata.decode(m.memberMetadata)?.topics ?? [])
        : [],
      assigned: m.memberAssignment.length
        ? (AssignerProtocol.MemberAssignment.decode(m.memberAssignment)?.assignment ?? {})
        : {},
    })),
  }));
  return decoded.find((g) => g.members.some((m) => m.subscribed.includes(topic))) ?? null;
}

interface Worker {
  child: ChildProcess;
  url: string;
  exited: Promise<number | string | null>;
  log: string[];
}

describeEngine(
  'KAFKA_BROKERS',
  'usage over HTTP and Kafka with the worker killed mid-stream (SQLite + Kafka)',
  (brokers) => {
    const suffix = uniqueSuffix();
    const topic = `purser.usage.crash.${suffix}`;
    /** Set CRASH_SEED to replay the data of a failed run (its seed is in the failure message). */
    const seed = Number(process.env.CRASH_SEED) || Date.now() % 2 ** 31;
    let dataDir: string;
    let server: TestServer;
    let bus: KafkaBus;
    let admin: Admin;
    const workers: Worker[] = [];
    let env: Record<string, string>;

    const startWorker = async (): Promise<Worker> => {
      const port = await freePort();
      const childEnv: NodeJS.ProcessEnv = {
        ...process.env,
        ...env,
        WORKER_PORT: String(port),
        HOST: '127.0.0.1',
      };
      delete childEnv.MONGODB_URL;
      delete childEnv.EVENTSTORE_URL;
      const child = spawn(process.execPath, [WORKER_MAIN], {
        cwd: ROOT,
        env: childEnv,
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      const log: string[] = [];
      const keep = (chunk: Buffer) => {
        log.push(...chunk.toString('utf8').split('\n').filter(Boolean));
        if (log.length > 200) log.splice(0, log.length - 200);
      };
      child.stdout!.on('data', keep);
      child.stderr!.on('data', keep);
      const exited = new Promise<number | string | null>((ok) =>
        child.once('exit', (code, signal) => ok(signal ?? code)),
      );
      const worker: Worker = { child, url: `http://127.0.0.1:${port}`, exited, log };
      workers.push(worker);
      return worker;
    };

    const waitHealthy = async (w: Worker) =>
      diagnose(
        () =>
          eventually(
            async () => {
              if (w.child.exitCode !== null || w.child.signalCode !== null)
                throw new Error(`worker exited (${w.child.exitCode ?? w.child.signalCode})`);
              return fetch(`${w.url}/health`).then(
                (r) => r.status,
                () => 0,
              );
            },
            (s) => s === 200,
            { timeoutMs: GROUP_JOIN_TIMEOUT_MS, intervalMs: 100, what: 'the worker to serve /health' },
          ),
        w,
      );

    /** Rethrows with the worker's last log lines, which say why it did not get there. */
    const diagnose = async <T>(fn: () => Promise<T>, w?: Worker): Promise<T> => {
      try {
        return await fn();
      } catch (err) {
        const lines = (w ?? workers[workers.length - 1])?.log.slice(-30).join('\n') ?? '';
        throw new Error(
          `${(err as Error).message}\n(CRASH_SEED=${seed})\n--- worker log (last lines) ---\n${lines}`,
        );
      }
    };

    beforeAll(async () => {
      // The worker runs from the build: build it now so it is the code under test.
      await promisify(execFile)('npm', ['run', 'build', '--silent'], {
        cwd: ROOT,
        maxBuffer: 16 * 1024 * 1024,
      }).catch((err: Error & { stdout?: string; stderr?: string }) => {
        throw new Error(`npm run build failed: ${err.message}\n${err.stdout ?? ''}${err.stderr ?? ''}`);
      });
      dataDir = mkdtempSync(join(tmpdir(), 'purser-crash-'));
      env = {
        PURSER_DATA_DIR: dataDir,
        KAFKA_BROKERS: brokers,
        PURSER_USAGE_TOPIC: topic,
        PURSER_PROJECTIONS: 'worker',
        LOG_LEVEL: 'warn',
      };
      server = await startTestServer({
        dataDir,
        env: {
          ...env,
          // CRASH_LOG=error shows the org server's errors (a 500 answer's cause).
          LOG_LEVEL: process.env.CRASH_LOG ?? 'silent',
          MONGODB_URL: undefined,
          EVENTSTORE_URL: undefined,
        },
      });
      bus = new KafkaBus({
        brokers,
        clientId: `purser-crash-test-${suffix}`,
        logger: { warn: () => undefined, error: () => undefined },
      });
      const kafka = new Kafka({
        brokers: brokers.split(','),
        clientId: `purser-crash-admin-${suffix}`,
        logLevel: logLevel.NOTHING,
      });
      admin = kafka.admin();
      await admin.connect();
      await waitHealthy(await startWorker());
    }, 240_000);

    afterAll(async () => {
      for (const w of workers)
        if (w.child.exitCode === null && w.child.signalCode === null) w.child.kill('SIGKILL');
      await Promise.all(workers.map((w) => w.exited));
      await server?.stop().catch(() => undefined);
      await bus?.close().catch(() => undefined);
      await admin?.deleteTopics({ topics: [topic, `${topic}.dlq`] }).catch(() => undefined);
      await admin?.disconnect().catch(() => undefined);
      if (dataDir) rmSync(dataDir, { recursive: true, force: true });
    }, 60_000);

    it('given 10,000 usage events each sent twice over HTTP and Kafka, when the worker is killed and replaced half-way, then every report counts each event exactly once, to the last decimal', async () => {
      const api = server.api;
      const rnd = random(seed);
      const ok = <T extends { status: number }>(res: T, what: string): T => {
        if (res.status >= 300)
          throw new Error(
            `${what} answered ${res.status}: ${JSON.stringify((res as { body?: unknown }).body)}`,
          );
        return res;
      };

      // Given an org with nested teams and 50 users (some in two teams, some in none).
      const orgId: string = ok(
        await api.post('/v1/orgs', { name: `Crash ${suffix}`, baseCurrency: 'EUR', timeZone: TIME_ZONE }),
        'create org',
      ).body.id;
      const parents = new Map<string, string | null>();
      const team = async (name: string, parent: string | null) => {
        const id: string = ok(
          await api.post(`/v1/orgs/${orgId}/teams`, { name, ...(parent ? { parentTeamId: parent } : {}) }),
          `create team ${name}`,
        ).body.id;
        parents.set(id, parent);
        return id;
      };
      const eng = await team('Engineering', null);
      const platform = await team('Platform', eng);
      const storage = await team('Storage', platform);
      const ml = await team('ML', eng);
      const sales = await team('Sales', null);
      const emea = await team('EMEA', sales);
      const research = await team('Research', null);
      const teams = [eng, platform, storage, ml, sales, emea, research];
      const pathOf = (teamId: string) => {
        const path: string[] = [];
        for (let t: string | null = teamId; t; t = parents.get(t) ?? null) path.push(t);
        return path;
      };
      const users: Array<{ id: string; primary: string | null; extra: string | null }> = [];
      for (let i = 0; i < USERS; i++) {
        const primary = i % 10 === 9 ? null : teams[i % teams.length];
        const extra = primary && i % 6 === 0 ? teams[(i + 3) % teams.length] : null;
        const res = ok(
          await api.post(`/v1/orgs/${orgId}/users`, {
            username: `user-${i}-${suffix}`,
            email: `user-${i}-${suffix}@crash.test`,
            ...(primary ? { primaryTeamId: primary } : {}),
            ...(extra ? { teamIds: [extra] } : {}),
          }),
          `create user ${i}`,
        );
        users.push({ id: res.body.id, primary, extra: extra === primary ? null : extra });
      }
      const start = Date.now() - 31 * 86_400_000;
      ok(
        await api.post(`/v1/orgs/${orgId}/exchange-rates`, {
          currency: 'USD',
          rate: USD_RATE,
          effectiveFrom: new Date(start - 86_400_000).toISOString(),
        }),
        'set USD rate',
      );

      // 10,000 events: mostly EUR, some USD (converted), some GBP (no rate: reported as unconverted).
      const events = Array.from({ length: EVENTS }, () => {
        const user = rnd.pick(users);
        const [itemType, itemId] = rnd.pick(ITEMS);
        const teamId = user.extra && rnd.next() < 0.3 ? user.extra : undefined;
        const r = rnd.next();
        return {
          eventId: randomUUID(),
          orgId,
          userId: user.id,
          ...(teamId ? { teamId } : {}),
          itemType,
          itemId,
          amount: randomAmount(rnd),
          currency: r < 0.7 ? 'EUR' : r < 0.95 ? 'USD' : 'GBP',
          inputTokens: rnd.int(0, 5000),
          outputTokens: rnd.int(0, 2000),
          model: rnd.pick(['m-large', 'm-small']),
          occurredAt: new Date(start + Math.floor(rnd.next() * 30 * 86_400_000)).toISOString(),
        };
      });

      // What every report must say, computed here from what is sent.
      const expected = {
        total: new Figure(),
        user: new Map<string, Figure>(),
        team: new Map<string, Figure>(),
        itemType: new Map<string, Figure>(),
        item: new Map<string, Figure>(),
        day: new Map<string, Figure>(),
      };
      const bump = (
        m: Map<string, Figure>,
        k: string,
        currency: string,
        nanos: bigint,
        base: bigint | null,
      ) => {
        let f = m.get(k);
        if (!f) m.set(k, (f = new Figure()));
        f.add(currency, nanos, base);
      };
      const primaryOf = new Map(users.map((u) => [u.id, u.primary]));
      for (const e of events) {
        const nanos = nanosOf(e.amount);
        const base = e.currency === 'EUR' ? nanos : e.currency === 'USD' ? convert(nanos, USD_RATE) : null;
        expected.total.add(e.currency, nanos, base);
        bump(expected.user, e.userId, e.currency, nanos, base);
        const teamId = e.teamId ?? primaryOf.get(e.userId) ?? null;
        if (teamId) for (const t of pathOf(teamId)) bump(expected.team, t, e.currency, nanos, base);
        bump(expected.itemType, e.itemType, e.currency, nanos, base);
        bump(expected.item, `${e.itemType}:${e.itemId}`, e.currency, nanos, base);
        bump(expected.day, localDay.format(new Date(e.occurredAt)), e.currency, nanos, base);
      }

      // When each event is sent twice, the 20,000 copies shuffled, every other copy over HTTP, the rest to Kafka ...
      const copies = [...events, ...events];
      for (let i = copies.length - 1; i > 0; i--) {
        const j = Math.floor(rnd.next() * (i + 1));
        [copies[i], copies[j]] = [copies[j], copies[i]];
      }
      const sendChunk = async (chunk: typeof copies) => {
        const http = chunk.filter((_, i) => i % 2 === 0);
        const kafka = chunk.filter((_, i) => i % 2 === 1);
        const [res] = await Promise.all([
          api.post('/v1/usage', { events: http }),
          bus.publish(
            topic,
            kafka.map((e) => ({ key: e.userId, value: e })),
          ),
        ]);
        ok(res, 'POST /v1/usage');
        const refused = res.body.results.filter((r: { status: string }) => r.status === 'rejected');
        expect(refused).toEqual([]);
      };
      const chunks: Array<typeof copies> = [];
      for (let i = 0; i < copies.length; i += CHUNK) chunks.push(copies.slice(i, i + CHUNK));
      const half = Math.floor(chunks.length / 2);
      // Two chunks in flight at a time, like two agents sending at once.
      const sendAll = async (list: Array<typeof copies>) => {
        for (let i = 0; i < list.length; i += 2) await Promise.all(list.slice(i, i + 2).map(sendChunk));
      };
      await sendAll(chunks.slice(0, half));

      // ... and the worker, busy with what came so far, is killed without warning and replaced.
      const from = localDay.format(new Date(start - 2 * 86_400_000));
      const to = localDay.format(new Date(Date.now() + 2 * 86_400_000));
      const report = (qs: string) => api.get(`/v1/orgs/${orgId}/expenditure?from=${from}&to=${to}${qs}`);
      await diagnose(() =>
        eventually(
          () => report('').then((r) => (r.status === 200 ? (r.body.total.count as number) : 0)),
          (n) => n > 0,
          { timeoutMs: 60_000, intervalMs: 50, what: 'the first worker to project some usage' },
        ),
      );
      const first = workers[0];
      first.child.kill('SIGKILL');
      expect(await first.exited).toBe('SIGKILL');
      const second = await startWorker();
      await sendAll(chunks.slice(half));
      await waitHealthy(second);

      // Then, once the consumer group has committed the whole topic and the projections have caught up ...
      const group = await diagnose(() =>
        eventually(
          () => groupConsuming(admin, topic),
          (g) => g !== null,
          { timeoutMs: GROUP_JOIN_TIMEOUT_MS, intervalMs: 250, what: `a consumer group consuming ${topic}` },
        ),
      );
      await diagnose(async () => {
        try {
          await eventually(
            async () => {
              const [ends, committed] = await Promise.all([
                admin.fetchTopicOffsets(topic),
                admin.fetchOffsets({ groupId: group!.groupId, topics: [topic] }),
              ]);
              const done = new Map(committed[0].partitions.map((p) => [p.partition, BigInt(p.offset)]));
              return ends.map((p) => ({
                partition: p.partition,
                end: p.high,
                committed: String(done.get(p.partition) ?? -1n),
              }));
            },
            (parts) => parts.every((p) => p.committed === p.end),
            {
              timeoutMs: DRAIN_TIMEOUT_MS,
              intervalMs: 250,
              what: `consumer group ${group!.groupId} to commit every message of the topic`,
            },
          );
        } catch (err) {
          // A group shared with consumers of other topics can leave partitions of this one assigned to a member that
          // does not consume them (kafkajs's round-robin assigner ignores subscriptions: tulios/kafkajs#1679).
          throw new Error(
            `${(err as Error).message}\ngroup now: ${JSON.stringify(await groupConsuming(admin, topic))}`,
          );
        }
      });
      await diagnose(() =>
        eventually(
          () =>
            fetch(`${second.url}/health`).then(
              (r) =>
                r.json() as Promise<{
                  head: string;
                  projections: Array<{ name: string; lag: string; state: string }>;
                }>,
            ),
          (h) => h.projections.length > 0 && h.projections.every((p) => p.lag === '0'),
          {
            timeoutMs: 60_000,
            intervalMs: 100,
            what: 'every projection of the new worker to reach the head',
          },
        ),
      );

      // ... every usage event is recorded exactly once,
      const seen: string[] = [];
      let cursor: string | null = null;
      do {
        const page: { body: { items: Array<{ eventId: string }>; nextCursor: string | null } } = ok(
          await api.get(
            `/v1/orgs/${orgId}/usage-records?from=${from}&to=${to}&limit=1000${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`,
          ),
          'GET usage-records',
        );
        seen.push(...page.body.items.map((r) => r.eventId));
        cursor = page.body.nextCursor;
      } while (cursor);
      expect(seen).toHaveLength(EVENTS);
      expect(new Set(seen)).toEqual(new Set(events.map((e) => e.eventId)));

      // ... and every report equals the exact sum of the events sent.
      const total = ok(await report(''), 'GET expenditure');
      expect(total.body.total.count).toBe(EVENTS);
      expect(figureOf(total.body.total)).toEqual(expected.total.view());
      const rows = async (groupBy: string, key: string) => {
        const res = ok(await report(`&groupBy=${groupBy}`), `GET expenditure by ${groupBy}`);
        expect(figureOf(res.body.total)).toEqual(expected.total.view());
        return Object.fromEntries(
          (res.body.rows as Array<FigureView & Record<string, string>>).map((r) => [r[key], figureOf(r)]),
        );
      };
      const views = (m: Map<string, Figure>) => Object.fromEntries([...m].map(([k, f]) => [k, f.view()]));
      expect(await rows('user', 'user')).toEqual(views(expected.user));
      expect(await rows('team', 'team')).toEqual(views(expected.team));
      expect(await rows('itemType', 'itemType')).toEqual(views(expected.itemType));
      expect(await rows('item', 'item')).toEqual(views(expected.item));
      expect(await rows('day', 'period')).toEqual(views(expected.day));

      // Nothing valid was parked on the dead-letter topic.
      if ((await admin.listTopics()).includes(`${topic}.dlq`)) {
        const dlq = await admin.fetchTopicOffsets(`${topic}.dlq`);
        expect(dlq.map((p) => p.high)).toEqual(dlq.map(() => '0'));
      }
    }, 400_000);
  },
);
