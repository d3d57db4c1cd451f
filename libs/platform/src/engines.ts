import { join } from 'node:path';
import { mkdirSync } from 'node:fs';
import { EventStore, MessageBus, ReadStore } from '@purser/core';
import {
  EsdbEventStore,
  InProcessBus,
  KafkaBus,
  MongoReadStore,
  SqliteEventStore,
  SqliteReadStore,
} from '@purser/engines';
import { PurserConfig, redact } from './config';
import { PurserLogger } from './logger';

export interface Engines {
  eventStore: EventStore;
  readStore: ReadStore;
  bus: MessageBus;
}

/**
 * Picks one adapter per port from the configuration: embedded (SQLite, in-process) unless the production
 * engine's address is set. Each port switches independently.
 */
export async function createEngines(config: PurserConfig, logger: PurserLogger): Promise<Engines> {
  const needsDir = !config.eventStoreUrl || !config.mongodbUrl;
  if (needsDir) mkdirSync(config.dataDir, { recursive: true });
  const eventStore: EventStore = config.eventStoreUrl
    ? new EsdbEventStore(config.eventStoreUrl)
    : new SqliteEventStore(join(config.dataDir, 'events.sqlite'), {
        synchronous: config.sqliteSynchronous === 'full' ? 'FULL' : 'NORMAL',
        checkpointThread: config.sqliteCheckpoint === 'thread',
      });
  const readStore: ReadStore = config.mongodbUrl
    ? await MongoReadStore.connect(config.mongodbUrl)
    : new SqliteReadStore(join(config.dataDir, 'read.sqlite'), {
        checkpointThread: config.sqliteCheckpoint === 'thread',
      });
  const bus: MessageBus = config.kafkaBrokers
    ? new KafkaBus({
        brokers: config.kafkaBrokers,
        clientId: config.kafkaClientId,
        consumer: {
          sessionTimeoutMs: config.kafkaSessionTimeoutMs,
          heartbeatIntervalMs: Math.max(500, Math.floor(config.kafkaSessionTimeoutMs / 10)),
        },
      })
    : new InProcessBus();
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
