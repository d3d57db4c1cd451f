import { ConfigError, loadConfig } from './config';

describe('configuration', () => {
  it('given no variables, then Purser runs embedded on port 3000 with data under ./data', () => {
    const c = loadConfig({});
    expect(c).toMatchObject({
      port: 3000,
      eventStoreUrl: null,
      mongodbUrl: null,
      kafkaBrokers: null,
      projections: 'in-process',
      usageTopic: 'purser.usage.v1',
      alertsTopic: 'purser.alerts.v1',
      sqliteSynchronous: 'normal',
      sqliteCheckpoint: 'thread',
    });
    expect(c.dataDir).toMatch(/\/data$/);
  });

  it('given PURSER_SQLITE_CHECKPOINT, then inline is accepted and anything else refused', () => {
    expect(loadConfig({ PURSER_SQLITE_CHECKPOINT: 'inline' }).sqliteCheckpoint).toBe('inline');
    expect(() => loadConfig({ PURSER_SQLITE_CHECKPOINT: 'sometimes' })).toThrow(/PURSER_SQLITE_CHECKPOINT/);
  });

  it('given production addresses, then each port switches on its own', () => {
    const c = loadConfig({ MONGODB_URL: 'mongodb://m:27017/p', KAFKA_BROKERS: 'k1:9092, k2:9092' });
    expect(c).toMatchObject({
      mongodbUrl: 'mongodb://m:27017/p',
      kafkaBrokers: ['k1:9092', 'k2:9092'],
      eventStoreUrl: null,
    });
  });

  it('given several bad values, then one clear line per problem, and credentials are not echoed', () => {
    let err: unknown;
    try {
      loadConfig({
        PORT: '70000',
        MONGODB_URL: 'postgres://u:secret@h/db',
        KAFKA_BROKERS: 'nohost',
        PURSER_PROJECTIONS: 'sometimes',
        PURSER_ADMIN_TOKEN: 'short',
      });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ConfigError);
    const problems = (err as ConfigError).problems;
    expect(problems).toEqual([
      'KAFKA_BROKERS entry "nohost" must be host:port',
      'PURSER_ADMIN_TOKEN must be at least 16 characters',
      'PORT="70000" must be an integer from 0 to 65535',
      'MONGODB_URL="postgres://***@h/db" must be a URL starting with mongodb:// or mongodb+srv://',
      'PURSER_PROJECTIONS="sometimes" must be one of: in-process, worker',
    ]);
    expect((err as Error).message).not.toContain('secret');
  });

  it('given the access settings, then their defaults, a chosen setup token, and refusals naming the variable (never its value)', () => {
    const access = loadConfig({ PURSER_DATA_DIR: '/srv/purser' }).access;
    expect(access).toMatchObject({
      keysDir: '/srv/purser/keys',
      accessTokenTtlSeconds: 900,
      lockoutThreshold: 5,
      lockoutSeconds: 900,
      resetTokenTtlSeconds: 1800,
      smtpUrl: null,
      setupToken: null,
    });
    const token = 'a-setup-token-chosen-by-the-operator-0123';
    expect(loadConfig({ PURSER_SETUP_TOKEN: token }).access.setupToken).toBe(token);
    let err: unknown;
    try {
      loadConfig({ PURSER_SETUP_TOKEN: 'too short', PURSER_SMTP_URL: 'http://mail:25' });
    } catch (e) {
      err = e;
    }
    expect((err as ConfigError).problems).toEqual([
      'PURSER_SMTP_URL="http://mail:25" must be a URL starting with smtp:// or smtps://',
      'PURSER_SETUP_TOKEN must be 32 to 200 printable characters without spaces',
    ]);
    expect((err as Error).message).not.toContain('too short');
  });

  it('given worker tasks, then a worker runs only those, and unknown ones are refused', () => {
    expect(loadConfig({}).workerTasks).toEqual(['projections', 'consumers', 'sweeper']);
    expect(loadConfig({ PURSER_WORKER_TASKS: ' consumers ,consumers' }).workerTasks).toEqual(['consumers']);
    expect(() => loadConfig({ PURSER_WORKER_TASKS: 'consumers,cron' })).toThrow(
      'PURSER_WORKER_TASKS="consumers,cron" must list some of projections, consumers, sweeper (comma-separated)',
    );
    expect(() => loadConfig({ PURSER_WORKER_TASKS: ' , ' })).toThrow(ConfigError);
    expect(loadConfig({}).workerProjections).toBeNull();
    expect(loadConfig({})).toMatchObject({ ingestMaxLag: 20_000, ingestMaxWaitMs: 10_000 });
    expect(loadConfig({ PURSER_INGEST_MAX_LAG: '0' }).ingestMaxLag).toBe(0);
    expect(loadConfig({ PURSER_WORKER_PROJECTIONS: 'expenditure, quota-usage' }).workerProjections).toEqual([
      'expenditure',
      'quota-usage',
    ]);
    expect(() => loadConfig({ PURSER_WORKER_PROJECTIONS: 'Expenditure!' })).toThrow(
      'PURSER_WORKER_PROJECTIONS="Expenditure!" must list projection names (comma-separated)',
    );
  });

  it('given no LOG_FORMAT, then logs are readable on a terminal and JSON anywhere else; LOG_FORMAT overrides both', () => {
    expect(loadConfig({}, false).logFormat).toBe('json');
    expect(loadConfig({}, true).logFormat).toBe('pretty');
    expect(loadConfig({ LOG_FORMAT: 'json' }, true).logFormat).toBe('json');
    expect(loadConfig({ LOG_FORMAT: 'pretty' }, false).logFormat).toBe('pretty');
    expect(() => loadConfig({ LOG_FORMAT: 'colour' })).toThrow(
      'LOG_FORMAT="colour" must be one of: json, pretty',
    );
  });
});
