import { randomUUID } from 'node:crypto';
import { Kafka, logLevel } from 'kafkajs';
import { KafkaBus } from '@purser/engines/kafka/kafka-bus';
import { usageConsumerGroup } from '@purser/usage';
import { HttpClient } from '../lib/http';
import { AppProcess, cpuMicrosPer, cpuMs, startApp } from '../lib/processes';
import { Suite, SuiteOutcome, atLeast, equals } from '../lib/suite';
import { perSecond, round, stopwatch } from '../lib/timing';
import {
  UsageDirectory,
  UsageGenerator,
  buildDirectory,
  POLL_MS,
  expenditureHealth,
  localDate,
  startServer,
  waitForCount,
} from './usage-ingest';

/** Messages per produce call while pre-producing. */
const PRODUCE_CHUNK = 5_000;
/** Consumer group of the usage consumer (UsageConsumer). */
const DRAIN_DEADLINE_MS = 15 * 60_000;

/**
 * A raw kafkajs consumer in a fresh group draining the topic without handling anything: the floor for the usage
 * consumer (same client library, same broker, same messages). Answers total and from-first-message times.
 */
async function rawDrain(brokers: string[], topic: string, total: number) {
  const kafka = new Kafka({ brokers, clientId: 'purser-bench-raw', logLevel: logLevel.NOTHING });
  const consumer = kafka.consumer({ groupId: `purser-bench-raw-${randomUUID()}`, maxWaitTimeInMs: 100 });
  const elapsed = stopwatch();
  let seen = 0;
  let firstMs = -1;
  let bytes = 0;
  await consumer.connect();
  await consumer.subscribe({ topics: [topic], fromBeginning: true });
  const done = new Promise<number>((resolve) => {
    void consumer.run({
      autoCommit: false,
      partitionsConsumedConcurrently: 1,
      eachBatchAutoResolve: true,
      eachBatch: async ({ batch }) => {
        if (firstMs < 0) firstMs = elapsed();
        for (const m of batch.messages) bytes += m.value?.length ?? 0;
        seen += batch.messages.length;
        if (seen >= total) resolve(elapsed());
      },
    });
  });
  try {
    const ms = await done;
    return {
      messages: seen,
      ms: round(ms, 1),
      groupJoinMs: round(firstMs, 1),
      eventsPerSec: perSecond(total, ms),
      eventsPerSecAfterJoin: perSecond(total, ms - firstMs),
      megabytes: round(bytes / 2 ** 20, 1),
    };
  } finally {
    await consumer.disconnect();
  }
}

export const usageKafkaSuite: Suite = {
  name: 'usage-kafka',
  description:
    'Usage pre-produced to a fresh Kafka topic, then drained by a consumer worker into the embedded stores and projected by a projections worker until GET expenditure counts it all',
  async run(ctx): Promise<SuiteOutcome> {
    const brokersEnv = process.env.KAFKA_BROKERS?.trim();
    if (!brokersEnv) {
      ctx.log('usage-kafka: skipped, KAFKA_BROKERS not set');
      return { figures: { skipped: 'KAFKA_BROKERS not set' }, targets: {} };
    }
    const brokers = brokersEnv.split(',').map((b) => b.trim());
    const total = ctx.count(1_000_000, 500);
    const topic = `purser.usage.bench.${Date.now().toString(36)}${randomUUID().slice(0, 6)}`;

    // 1. The directory, through a server that does not consume Kafka yet.
    const setup = await startServer(ctx.dir);
    const setupHttp = new HttpClient(setup.url, 32);
    const endMs = Date.now() - 60_000;
    const startMs = endMs - 30 * 86_400_000;
    const range = { from: localDate(startMs - 86_400_000), to: localDate(Date.now() + 86_400_000) };
    let dir: UsageDirectory;
    /** Positions are dense: the drain is done when the head has moved by `total` and the projection reached it. */
    let head0: bigint;
    try {
      dir = await buildDirectory(ctx, setupHttp, 1_000, 100);
      await waitForCount(setupHttp, dir.orgId, range, 0);
      head0 = (await expenditureHealth(setupHttp)).head;
    } finally {
      setupHttp.close();
      await setup.close();
    }

    let produceMs = 0;
    let bytes = 0;
    let startedMs = 0;
    let firstMs = -1;
    let drainMs = 0;
    let drained: { ms: number; count: number };
    let cpuMicrosPerEvent: Record<string, number | null> = {};
    let raw: Awaited<ReturnType<typeof rawDrain>>;
    try {
      // 2. Pre-produce every event, keyed by user, as agents would.
      const bus = new KafkaBus({ brokers, clientId: 'purser-bench-producer' });
      const gen = new UsageGenerator(dir, total, startMs, endMs);
      const produce = stopwatch();
      try {
        for (let sent = 0; sent < total; sent += PRODUCE_CHUNK) {
          const n = Math.min(PRODUCE_CHUNK, total - sent);
          const messages = new Array<{ key: string; raw: string }>(n);
          for (let i = 0; i < n; i++) {
            const json = gen.next();
            bytes += json.length;
            messages[i] = {
              key: json.slice(json.indexOf('"userId":"') + 10, json.indexOf('","itemType"')),
              raw: json,
            };
          }
          await bus.publishRaw(topic, messages);
          if ((sent / PRODUCE_CHUNK) % 20 === 0) ctx.log(`usage-kafka: produced ${sent + n}/${total}`);
        }
      } finally {
        await bus.close();
      }
      produceMs = produce();
      ctx.log(`usage-kafka: produced ${total} events in ${Math.round(produceMs)} ms; starting the consumer`);

      // 3. The org server with the topic configured: its usage consumer drains it through the command path.
      const drain = stopwatch();
      // Production layout on one machine: the API, a worker running the projections and the sweeper, and a worker
      // running the Kafka consumer (PURSER_WORKER_TASKS), each its own process.
      const env = { PURSER_DATA_DIR: ctx.dir, KAFKA_BROKERS: brokers.join(','), PURSER_USAGE_TOPIC: topic };
      const procs: AppProcess[] = [];
      try {
        procs.push(await startApp('worker', { ...env, PURSER_WORKER_TASKS: 'projections,sweeper' }));
        procs.push(await startApp('org-server', { ...env, PURSER_PROJECTIONS: 'worker' }));
        const cpu0 = procs.map((p) => cpuMs(p.child.pid));
        procs.push(await startApp('worker', { ...env, PURSER_WORKER_TASKS: 'consumers' }));
        cpu0.push(cpuMs(procs[2].child.pid));
        startedMs = drain();
        const http = new HttpClient(procs[1].url, 8);
        try {
          while ((await expenditureHealth(http)).head <= head0) {
            if (drain() > DRAIN_DEADLINE_MS) throw new Error('the usage consumer never delivered anything');
            await new Promise((r) => setTimeout(r, POLL_MS));
          }
          firstMs = drain();
          ctx.log(`usage-kafka: first usage appended after ${Math.round(firstMs)} ms; draining`);
          drained = await waitForCount(http, dir.orgId, range, total, {
            minHead: head0 + BigInt(total),
            deadlineMs: DRAIN_DEADLINE_MS,
          });
          drainMs = drain();
          cpuMicrosPerEvent = {
            projectionsWorker: cpuMicrosPer(cpu0[0], cpuMs(procs[0].child.pid), total),
            api: cpuMicrosPer(cpu0[1], cpuMs(procs[1].child.pid), total),
            consumerWorker: cpuMicrosPer(cpu0[2], cpuMs(procs[2].child.pid), total),
          };
        } finally {
          http.close();
        }
      } catch (err) {
        const logs = procs.map((p) => `--- ${p.app} ---\n${p.log.slice(-15).join('\n')}`).join('\n');
        throw new Error(`${(err as Error).message}\n${logs}`);
      } finally {
        for (const p of procs.reverse()) await p.stop();
      }
      ctx.log(`usage-kafka: drained in ${Math.round(drainMs)} ms; raw consumer baseline`);

      raw = await rawDrain(brokers, topic, total);
    } finally {
      const admin = new Kafka({
        brokers,
        clientId: 'purser-bench-admin',
        logLevel: logLevel.NOTHING,
      }).admin();
      await admin.connect();
      await admin.deleteTopics({ topics: [topic, `${topic}.dlq`] }).catch(() => undefined);
      await admin.disconnect();
    }

    const eventsPerSec = perSecond(total, drainMs);
    return {
      figures: {
        events: total,
        topic: { partitions: 3, megabytes: round(bytes / 2 ** 20, 1) },
        produce: { ms: round(produceMs, 1), eventsPerSec: perSecond(total, produceMs), chunk: PRODUCE_CHUNK },
        drain: {
          what: 'consumer worker start (incl. group join) until GET expenditure counts every event',
          processes:
            'API (PURSER_PROJECTIONS=worker), worker with PURSER_WORKER_TASKS=projections,sweeper, worker with PURSER_WORKER_TASKS=consumers',
          cpuMicrosPerEvent,
          ms: round(drainMs, 1),
          serverStartMs: round(startedMs, 1),
          firstAppendedMs: round(firstMs, 1),
          eventsPerSec,
          eventsPerSecAfterFirst: perSecond(total, drainMs - firstMs),
          consumerGroup: usageConsumerGroup(topic),
        },
        countedByQuery: drained.count,
        baselines: {
          rawKafkajsConsumer: {
            ...raw,
            what: 'kafkajs consumer, fresh group, batches counted, nothing handled',
          },
        },
      },
      targets: {
        eventsPerSec: atLeast(eventsPerSec, 20_000),
        allCounted: equals(drained.count, total),
      },
    };
  },
};
