import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { EventStore, MessageBus, ReadStore } from '@purser/core';

/** One adapter per port, as the apps hand them to the platform. */
export interface Engines {
  eventStore: EventStore;
  readStore: ReadStore;
  bus: MessageBus;
}

/** What the selection reads from the configuration (the platform's PurserConfig satisfies it). */
export interface EngineConfig {
  dataDir: string;
  eventStoreUrl: string | null;
  mongodbUrl: string | null;
  kafkaBrokers: string[] | null;
  kafkaClientId: string;
  /** How long the broker waits for a silent consumer (a crashed process) before giving its partitions away. */
  kafkaSessionTimeoutMs: number;
  /** SQLite event store durability: 'normal' survives process crashes, 'full' also power loss. */
  sqliteSynchronous: 'normal' | 'full';
  /** Where the embedded stores checkpoint their WAL: a worker thread per store (default), or only inline. */
  sqliteCheckpoint: 'thread' | 'inline';
}

export interface EngineLogger {
  info(fields: object, message: string): void;
}

/** The URL without its credentials, for logs. */
function redact(url: string): string {
  return url.replace(/\/\/([^@/]+)@/, '//***@');
}

/**
 * Picks one adapter per port from the configuration: embedded (SQLite, in-process) unless the production
 * engine's address is set. Each port switches independently. Each adapter's module is loaded only when it is
 * selected, so an embedded start never loads kafkajs, mongoose or the EventStoreDB client (checked by
 * apps/org-server/src/embedded-start.int.spec.ts).
 */
export async function createEngines(config: EngineConfig, logger: EngineLogger): Promise<Engines> {
  const needsDir = !config.eventStoreUrl || !config.mongodbUrl;
  if (needsDir) mkdirSync(config.dataDir, { recursive: true });
  const checkpointThread = config.sqliteCheckpoint === 'thread';
  let eventStore: EventStore;
  if (config.eventStoreUrl) {
    const { EsdbEventStore } = await import('./esdb/esdb-event-store');
    eventStore = new EsdbEventStore(config.eventStoreUrl);
  } else {
    const { SqliteEventStore } = await import('./sqlite/sqlite-event-store');
    eventStore = new SqliteEventStore(join(config.dataDir, 'events.sqlite'), {
      synchronous: config.sqliteSynchronous === 'full' ? 'FULL' : 'NORMAL',
      checkpointThread,
    });
  }
  let readStore: ReadStore;
  if (config.mongodbUrl) {
    const { MongoReadStore } = await import('./mongo/mongo-read-store');
    readStore = await MongoReadStore.connect(config.mongodbUrl);
  } else {
    const { SqliteReadStore } = await import('./sqlite/sqlite-read-store');
    readStore = new SqliteReadStore(join(config.dataDir, 'read.sqlite'), { checkpointThread });
  }
  let bus: MessageBus;
  if (config.kafkaBrokers) {
    const { KafkaBus } = await import('./kafka/kafka-bus');
    bus = new KafkaBus({
      brokers: config.kafkaBrokers,
      clientId: config.kafkaClientId,
      consumer: {
        sessionTimeoutMs: config.kafkaSessionTimeoutMs,
        heartbeatIntervalMs: Math.max(500, Math.floor(config.kafkaSessionTimeoutMs / 10)),
      },
    });
  } else {
    const { InProcessBus } = await import('./inproc/in-process-bus');
    bus = new InProcessBus();
  }
  logger.info(
    {
      eventStore: config.eventStoreUrl
        ? `eventstoredb ${redact(config.eventStoreUrl)}`
        : `sqlite ${config.dataDir}`,
      readStore: config.mongodbUrl ? `mongodb ${redact(config.mongodbUrl)}` : `sqlite ${config.dataDir}`,
      bus: config.kafkaBrokers ? `kafka ${config.kafkaBrokers.join(',')}` : 'in-process',
    },
    'engines selected',
  );
  return { eventStore, readStore, bus };
}

export async function closeEngines(engines: Engines): Promise<void> {
  await engines.bus.close();
  await engines.eventStore.close();
  await engines.readStore.close();
}
