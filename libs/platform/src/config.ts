import { resolve } from 'node:path';
import type { EngineConfig } from '@purser/engines';

/**
 * All configuration comes from environment variables, validated at start-up. With none set, Purser runs
 * embedded: SQLite files under ./data and an in-process bus. Each production engine is switched on
 * independently by its address. Documented in the README's configuration table.
 */
export interface PurserConfig extends EngineConfig {
  port: number;
  host: string;
  workerPort: number;
  logLevel: 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';
  /** 'json': one JSON object a line (machines, log shippers). 'pretty': readable lines (a person at a terminal). */
  logFormat: LogFormat;
  /** 'in-process': the API runs the projections too (embedded default). 'worker': apps/worker runs them. */
  projections: 'in-process' | 'worker';
  minPositionTimeoutMs: number;
  adminToken: string | null;
  usageTopic: string;
  alertsTopic: string;
  /** How long a quota reservation holds its estimate when no usage settles it. */
  reservationTtlMs: number;
  /** How often expired reservations are looked for. */
  reservationSweepMs: number;
  /**
   * What a worker process runs: the projections (one process), the Kafka consumers (any number: the consumer group
   * shares the partitions), the reservation sweeper. All three by default.
   */
  workerTasks: WorkerTask[];
  /**
   * Backpressure on usage ingest: while the usage projections are more than this many positions behind the head, a
   * batch waits (up to ingestMaxWaitMs) before it is appended, so reports and quota counting stay fresh under
   * sustained load. 0: never wait.
   */
  ingestMaxLag: number;
  ingestMaxWaitMs: number;
  /** Which projections a process running projections runs (null: all), so they can be spread over processes. */
  workerProjections: string[] | null;
  /** Sign-in: key material, token lifetimes, brute-force limits, mail. */
  access: AccessConfig;
}

export interface AccessConfig {
  /** Where the signing keys and the instance's pepper and sealing key live (default <data dir>/keys, mode 0700). */
  keysDir: string;
  /** The access token's (JWT's) lifetime. */
  accessTokenTtlSeconds: number;
  /** A session's absolute lifetime: its refresh tokens stop working after this, however often used. */
  sessionTtlSeconds: number;
  /** Consecutive failed sign-ins after which an account locks. */
  lockoutThreshold: number;
  /** How long a lock lasts (an administrator can lift it before). */
  lockoutSeconds: number;
  /** Sign-in and reset requests per source address per minute before 429. */
  authRateLimitPerMinute: number;
  /** How long a password reset link works. */
  resetTokenTtlSeconds: number;
  /** smtp://[user:password@]host:port or smtps://...: without it mail is off (and resets cannot be delivered). */
  smtpUrl: string | null;
  mailFrom: string;
  /** The console's address, for links in mails (reset). */
  publicUrl: string | null;
  /**
   * The one-time setup token, when the operator chooses it (several replicas must share one); otherwise the first
   * start makes one up.
   */
  setupToken: string | null;
}

export const LOG_FORMATS = ['json', 'pretty'] as const;
export type LogFormat = (typeof LOG_FORMATS)[number];

export const WORKER_TASKS = ['projections', 'consumers', 'sweeper'] as const;
export type WorkerTask = (typeof WORKER_TASKS)[number];

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`invalid configuration:\n  - ${problems.join('\n  - ')}`);
  }
}

const LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;

/**
 * `terminal`: whether a person reads stdout (it is a TTY); it only decides LOG_FORMAT's default, so that logs stay
 * JSON wherever no TTY is attached (containers, pipes, files, tests).
 */
export function loadConfig(
  env: NodeJS.ProcessEnv = process.env,
  terminal: boolean = process.stdout.isTTY === true,
): PurserConfig {
  const problems: string[] = [];
  const str = (k: string) => {
    const v = env[k];
    return v === undefined || v.trim() === '' ? null : v.trim();
  };
  const int = (k: string, def: number, min: number, max: number) => {
    const v = str(k);
    if (v === null) return def;
    if (!/^\d+$/.test(v) || Number(v) < min || Number(v) > max) {
      problems.push(`${k}="${v}" must be an integer from ${min} to ${max}`);
      return def;
    }
    return Number(v);
  };
  const oneOf = <T extends string>(k: string, values: readonly T[], def: T): T => {
    const v = str(k);
    if (v === null) return def;
    if (!(values as readonly string[]).includes(v)) {
      problems.push(`${k}="${v}" must be one of: ${values.join(', ')}`);
      return def;
    }
    return v as T;
  };
  const url = (k: string, schemes: string[]) => {
    const v = str(k);
    if (v === null) return null;
    try {
      const u = new URL(v);
      if (!schemes.includes(u.protocol.replace(/:$/, ''))) throw new Error('scheme');
      return v;
    } catch {
      problems.push(
        `${k}="${redact(v)}" must be a URL starting with ${schemes.map((s) => `${s}://`).join(' or ')}`,
      );
      return null;
    }
  };
  const topic = (k: string, def: string) => {
    const v = str(k) ?? def;
    if (!/^[a-zA-Z0-9._-]{1,200}$/.test(v))
      problems.push(`${k}="${v}" must be a Kafka topic name ([a-zA-Z0-9._-])`);
    return v;
  };

  let kafkaBrokers: string[] | null = null;
  const brokers = str('KAFKA_BROKERS');
  if (brokers !== null) {
    kafkaBrokers = brokers.split(',').map((b) => b.trim());
    for (const b of kafkaBrokers) {
      if (!/^[a-zA-Z0-9.\-_[\]:]+:\d{1,5}$/.test(b))
        problems.push(`KAFKA_BROKERS entry "${b}" must be host:port`);
    }
  }
  const tasks = (str('PURSER_WORKER_TASKS') ?? WORKER_TASKS.join(','))
    .split(',')
    .map((t) => t.trim())
    .filter(Boolean);
  const unknownTasks = tasks.filter((t) => !(WORKER_TASKS as readonly string[]).includes(t));
  if (unknownTasks.length || tasks.length === 0)
    problems.push(
      `PURSER_WORKER_TASKS="${env.PURSER_WORKER_TASKS}" must list some of ${WORKER_TASKS.join(', ')} (comma-separated)`,
    );
  const projectionNames = str('PURSER_WORKER_PROJECTIONS')
    ?.split(',')
    .map((n) => n.trim())
    .filter(Boolean);
  if (
    projectionNames &&
    (projectionNames.length === 0 || projectionNames.some((n) => !/^[a-z0-9-]{1,64}$/.test(n)))
  )
    problems.push(
      `PURSER_WORKER_PROJECTIONS="${env.PURSER_WORKER_PROJECTIONS}" must list projection names (comma-separated)`,
    );
  const adminToken = str('PURSER_ADMIN_TOKEN');
  if (adminToken !== null && adminToken.length < 16)
    problems.push('PURSER_ADMIN_TOKEN must be at least 16 characters');

  const dataDir = resolve(str('PURSER_DATA_DIR') ?? './data');
  const smtpUrl = url('PURSER_SMTP_URL', ['smtp', 'smtps']);
  const publicUrl = url('PURSER_PUBLIC_URL', ['http', 'https']);
  const access: AccessConfig = {
    keysDir: resolve(str('PURSER_KEYS_DIR') ?? resolve(dataDir, 'keys')),
    accessTokenTtlSeconds: int('PURSER_ACCESS_TOKEN_TTL_S', 900, 30, 86_400),
    sessionTtlSeconds: int('PURSER_SESSION_TTL_S', 30 * 86_400, 300, 365 * 86_400),
    lockoutThreshold: int('PURSER_LOCKOUT_THRESHOLD', 5, 1, 100),
    lockoutSeconds: int('PURSER_LOCKOUT_S', 900, 1, 7 * 86_400),
    authRateLimitPerMinute: int('PURSER_AUTH_RATE_LIMIT', 30, 1, 100_000),
    resetTokenTtlSeconds: int('PURSER_RESET_TOKEN_TTL_S', 1800, 60, 86_400),
    smtpUrl,
    mailFrom: str('PURSER_MAIL_FROM') ?? 'Purser <purser@localhost>',
    publicUrl,
    setupToken: str('PURSER_SETUP_TOKEN'),
  };
  if (access.setupToken !== null && !/^[\x21-\x7e]{32,200}$/.test(access.setupToken))
    problems.push('PURSER_SETUP_TOKEN must be 32 to 200 printable characters without spaces');

  const config: PurserConfig = {
    port: int('PORT', 3000, 0, 65535),
    host: str('HOST') ?? '0.0.0.0',
    workerPort: int('WORKER_PORT', 3001, 0, 65535),
    dataDir,
    eventStoreUrl: url('EVENTSTORE_URL', ['esdb', 'esdb+discover']),
    mongodbUrl: url('MONGODB_URL', ['mongodb', 'mongodb+srv']),
    kafkaBrokers,
    kafkaClientId: str('KAFKA_CLIENT_ID') ?? 'purser',
    kafkaSessionTimeoutMs: int('KAFKA_SESSION_TIMEOUT_MS', 30_000, 6_000, 300_000),
    logLevel: oneOf('LOG_LEVEL', LEVELS, 'info'),
    logFormat: oneOf('LOG_FORMAT', LOG_FORMATS, terminal ? 'pretty' : 'json'),
    projections: oneOf('PURSER_PROJECTIONS', ['in-process', 'worker'] as const, 'in-process'),
    minPositionTimeoutMs: int('PURSER_MIN_POSITION_TIMEOUT_MS', 5000, 0, 60000),
    adminToken,
    usageTopic: topic('PURSER_USAGE_TOPIC', 'purser.usage.v1'),
    alertsTopic: topic('PURSER_ALERTS_TOPIC', 'purser.alerts.v1'),
    reservationTtlMs: int('PURSER_RESERVATION_TTL_MS', 300_000, 1000, 86_400_000),
    reservationSweepMs: int('PURSER_RESERVATION_SWEEP_MS', 1000, 50, 60_000),
    sqliteSynchronous: oneOf('PURSER_SQLITE_SYNCHRONOUS', ['normal', 'full'] as const, 'normal'),
    sqliteCheckpoint: oneOf('PURSER_SQLITE_CHECKPOINT', ['thread', 'inline'] as const, 'thread'),
    workerTasks: [...new Set(tasks)].filter((t): t is WorkerTask =>
      (WORKER_TASKS as readonly string[]).includes(t),
    ),
    workerProjections: projectionNames?.length ? [...new Set(projectionNames)] : null,
    ingestMaxLag: int('PURSER_INGEST_MAX_LAG', 20_000, 0, 100_000_000),
    ingestMaxWaitMs: int('PURSER_INGEST_MAX_WAIT_MS', 10_000, 0, 600_000),
    access,
  };
  if (problems.length) throw new ConfigError(problems);
  return config;
}

/** Hides credentials in URLs before they reach a log or an error. */
export function redact(url: string): string {
  return url.replace(/\/\/([^@/]+)@/, '//***@');
}
