import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describeEngine } from '../../../test/support/engines';
import { closeEngines, createEngines, EngineConfig } from './select';

function config(overrides: Partial<EngineConfig>): EngineConfig {
  return {
    dataDir: mkdtempSync(join(tmpdir(), 'purser-select-')),
    eventStoreUrl: null,
    mongodbUrl: null,
    kafkaBrokers: null,
    kafkaClientId: 'purser-select-test',
    kafkaSessionTimeoutMs: 10_000,
    sqliteSynchronous: 'normal',
    sqliteCheckpoint: 'inline',
    ...overrides,
  };
}

function recordingLogger() {
  const lines: Array<{ fields: object; message: string }> = [];
  return { lines, info: (fields: object, message: string) => lines.push({ fields, message }) };
}

describe('engine selection', () => {
  it('given no engine address, when engines are created, then every port is embedded and the choice is logged', async () => {
    const c = config({});
    const logger = recordingLogger();
    const engines = await createEngines(c, logger);
    try {
      expect([engines.eventStore.name, engines.readStore.name, engines.bus.name]).toEqual([
        'sqlite',
        'sqlite',
        'in-process',
      ]);
      expect(logger.lines).toEqual([
        {
          message: 'engines selected',
          fields: { eventStore: `sqlite ${c.dataDir}`, readStore: `sqlite ${c.dataDir}`, bus: 'in-process' },
        },
      ]);
    } finally {
      await closeEngines(engines);
      rmSync(c.dataDir, { recursive: true, force: true });
    }
  });
});

describeEngine('MONGODB_URL', 'engine selection with MongoDB', (mongodbUrl) => {
  it('given a MongoDB address, when engines are created, then the read store is MongoDB and the others stay embedded', async () => {
    const c = config({ mongodbUrl });
    const logger = recordingLogger();
    const engines = await createEngines(c, logger);
    try {
      expect([engines.eventStore.name, engines.readStore.name, engines.bus.name]).toEqual([
        'sqlite',
        'mongodb',
        'in-process',
      ]);
      expect(logger.lines[0].fields).toMatchObject({ readStore: `mongodb ${mongodbUrl}` });
    } finally {
      await closeEngines(engines);
      rmSync(c.dataDir, { recursive: true, force: true });
    }
  });
});

describeEngine('KAFKA_BROKERS', 'engine selection with Kafka', (brokers) => {
  it('given Kafka brokers, when engines are created, then the bus is Kafka and the log names the brokers', async () => {
    const c = config({ kafkaBrokers: brokers.split(',') });
    const logger = recordingLogger();
    const engines = await createEngines(c, logger);
    try {
      expect(engines.bus.name).toBe('kafka');
      expect(logger.lines[0].fields).toMatchObject({ bus: `kafka ${brokers}` });
    } finally {
      await closeEngines(engines);
      rmSync(c.dataDir, { recursive: true, force: true });
    }
  });
});
