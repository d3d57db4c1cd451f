import { ChildProcess, execFile, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { AddressInfo, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { Admin, AssignerProtocol, Kafka, logLevel } from 'kafkajs';
import { KafkaBus } from '@purser/engines/kafka/kafka-bus';
import { TestServer, eventually, startTestServer, uniqueSuffix } from '@purser/testkit';

/**
 * The setup of the Kafka crash test (usage.kafka-crash.int.spec.ts): the org server in this process and workers as
 * real child processes (built first, so the build is the code under test), sharing the embedded SQLite files of a
 * temporary directory, a Kafka topic of their own, and the waits that tell when the worker has joined and drained.
 */

const ROOT = resolve(__dirname, '../../../..');
const WORKER_MAIN = join(ROOT, 'dist/apps/worker/src/main.js');
/**
 * A worker serves /health only once its usage consumer has joined the group (UsageConsumer awaits subscribe at
 * bootstrap). After a SIGKILL the group waits for the dead member's session to expire (30 s by default) before
 * the new member gets partitions, so both waits allow well over that.
 */
export const GROUP_JOIN_TIMEOUT_MS = 90_000;
/** How long the consumer group and the projections may take to drain everything after the last send. */
const DRAIN_TIMEOUT_MS = 150_000;

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

export interface Worker {
  child: ChildProcess;
  url: string;
  exited: Promise<number | string | null>;
  log: string[];
}

/**
 * Registers the suite's beforeAll (build, org server, Kafka clients, a first healthy worker) and afterAll, and
 * answers what the test uses; server, bus and admin are set once beforeAll has run.
 */
export function crashHarness(brokers: string) {
  const suffix = uniqueSuffix();
  const topic = `purser.usage.crash.${suffix}`;
  /** Set CRASH_SEED to replay the data of a failed run (its seed is in the failure message). */
  const seed = Number(process.env.CRASH_SEED) || Date.now() % 2 ** 31;
  let dataDir: string;
  let env: Record<string, string>;
  const workers: Worker[] = [];

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
    const exited = new Promise<number | string | null>((done) =>
      child.once('exit', (code, signal) => done(signal ?? code)),
    );
    const worker: Worker = { child, url: `http://127.0.0.1:${port}`, exited, log };
    workers.push(worker);
    return worker;
  };

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

  const h = {
    suffix,
    topic,
    seed,
    workers,
    server: undefined as unknown as TestServer,
    bus: undefined as unknown as KafkaBus,
    admin: undefined as unknown as Admin,
    startWorker,
    waitHealthy,
    diagnose,

    /** Waits until the consumer group consuming the topic has committed every message of it. */
    async waitTopicCommitted(): Promise<void> {
      const admin = h.admin;
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
    },

    /** Waits until every projection of the worker has reached the head. */
    async waitProjected(w: Worker): Promise<void> {
      await diagnose(() =>
        eventually(
          () =>
            fetch(`${w.url}/health`).then(
              (r) =>
                r.json() as Promise<{
                  head: string;
                  projections: Array<{ name: string; lag: string; state: string }>;
                }>,
            ),
          (health) => health.projections.length > 0 && health.projections.every((p) => p.lag === '0'),
          {
            timeoutMs: 60_000,
            intervalMs: 100,
            what: 'every projection of the new worker to reach the head',
          },
        ),
      );
    },
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
    h.server = await startTestServer({
      dataDir,
      env: {
        ...env,
        // CRASH_LOG=error shows the org server's errors (a 500 answer's cause).
        LOG_LEVEL: process.env.CRASH_LOG ?? 'silent',
        MONGODB_URL: undefined,
        EVENTSTORE_URL: undefined,
      },
    });
    h.bus = new KafkaBus({
      brokers,
      clientId: `purser-crash-test-${suffix}`,
      logger: { warn: () => undefined, error: () => undefined },
    });
    const kafka = new Kafka({
      brokers: brokers.split(','),
      clientId: `purser-crash-admin-${suffix}`,
      logLevel: logLevel.NOTHING,
    });
    h.admin = kafka.admin();
    await h.admin.connect();
    await waitHealthy(await startWorker());
  }, 240_000);

  afterAll(async () => {
    for (const w of workers)
      if (w.child.exitCode === null && w.child.signalCode === null) w.child.kill('SIGKILL');
    await Promise.all(workers.map((w) => w.exited));
    await h.server?.stop().catch(() => undefined);
    await h.bus?.close().catch(() => undefined);
    await h.admin?.deleteTopics({ topics: [topic, `${topic}.dlq`] }).catch(() => undefined);
    await h.admin?.disconnect().catch(() => undefined);
    if (dataDir) rmSync(dataDir, { recursive: true, force: true });
  }, 60_000);

  return h;
}
