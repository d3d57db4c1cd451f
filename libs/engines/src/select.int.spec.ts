import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describeEngine } from '@purser/testkit';
import { closeEngines, createEngines, EngineConfig, Engines } from './select';

/** Creates engines from the embedded defaults plus `overrides`, hands them and the log lines to `check`, closes them. */
async function withEngines(
  overrides: Partial<EngineConfig>,
  check: (engines: Engines, log: Array<{ fields: object; message: string }>, config: EngineConfig) => void,
): Promise<void> {
  const config: EngineConfig = {
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
  const log: Array<{ fields: object; message: string }> = [];
  const engines = await createEngines(config, { info: (fields, message) => log.push({ fields, message }) });
  try {
    check(engines, log, config);
  } finally {
    await closeEngines(engines);
    rmSync(config.dataDir, { recursive: true, force: true });
  }
}

const names = (e: Engines) => [e.eventStore.name, e.readStore.name, e.bus.name];

describe('engine selection', () => {
  it('given no engine address, when engines are created, then every port is embedded and the choice is logged', () =>
    withEngines({}, (engines, log, config) => {
      expect(names(engines)).toEqual(['sqlite', 'sqlite', 'in-process']);
      expect(log).toEqual([
        {
          message: 'engines selected',
          fields: {
            eventStore: `sqlite ${config.dataDir}`,
            readStore: `sqlite ${config.dataDir}`,
            bus: 'in-process',
          },
        },
      ]);
    }));
});

describeEngine('MONGODB_URL', 'engine selection with MongoDB', (mongodbUrl) => {
  it('given a MongoDB address, when engines are created, then the read store is MongoDB and the others stay embedded', () =>
    withEngines({ mongodbUrl }, (engines, log) => {
      expect(names(engines)).toEqual(['sqlite', 'mongodb', 'in-process']);
      expect(log[0].fields).toMatchObject({ readStore: `mongodb ${mongodbUrl}` });
    }));
});

describeEngine('KAFKA_BROKERS', 'engine selection with Kafka', (brokers) => {
  it('given Kafka brokers, when engines are created, then the bus is Kafka and the log names the brokers', () =>
    withEngines({ kafkaBrokers: brokers.split(',') }, (engines, log) => {
      expect(names(engines)).toEqual(['sqlite', 'sqlite', 'kafka']);
      expect(log[0].fields).toMatchObject({ bus: `kafka ${brokers}` });
    }));
});
