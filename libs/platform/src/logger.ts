import { LoggerService } from '@nestjs/common';
import pino from 'pino';
import { prettyFactory } from 'pino-pretty';
import type { LogFormat } from './config';

export type PurserLogger = pino.Logger;

export interface LoggerOptions {
  /** 'json' (the default): one JSON object a line. 'pretty': readable lines for a terminal (LOG_FORMAT). */
  format?: LogFormat;
  /** Where lines go (default: stdout, as pino writes it). */
  destination?: { write(line: string): unknown };
}

/**
 * Structured logs, one line per event: JSON for machines, or rendered by pino-pretty for a person at a terminal.
 * Never log secrets, passwords or tokens (the usual field names are redacted either way).
 */
export function createLogger(
  level: string,
  base: Record<string, unknown> = {},
  options: LoggerOptions = {},
): PurserLogger {
  const destination =
    options.format === 'pretty' ? prettyLines(options.destination ?? process.stdout) : options.destination;
  return pino(
    {
      level,
      base: { service: 'purser', ...base },
      timestamp: pino.stdTimeFunctions.isoTime,
      redact: {
        paths: [
          'password',
          '*.password',
          'token',
          '*.token',
          'secret',
          '*.secret',
          'authorization',
          '*.authorization',
          'req.headers.authorization',
        ],
        censor: '[redacted]',
      },
    },
    destination,
  );
}

/** The request log line's fields, shown as one short sentence in pretty mode. */
const REQUEST_FIELDS = ['reqId', 'method', 'route', 'status', 'ms'] as const;

/**
 * pino-pretty in-process and synchronous (no worker thread): `14:35:15.470 INFO (org-server): message {fields}`,
 * request lines as `GET /v1/orgs/:orgId 200 1.2 ms`.
 */
function prettyLines(out: { write(line: string): unknown }): { write(line: string): void } {
  const prettify = prettyFactory({
    translateTime: 'SYS:HH:MM:ss.l',
    ignore: 'pid,hostname,service,app',
    messageFormat: (log, messageKey) => {
      const app = typeof log.app === 'string' ? `(${log.app}) ` : '';
      return `${app}${String(log[messageKey] ?? '')}`;
    },
    singleLine: true,
  });
  return {
    write(line: string) {
      let log: Record<string, unknown>;
      try {
        log = JSON.parse(line);
      } catch {
        out.write(line);
        return;
      }
      if (log.msg === 'request' && typeof log.route === 'string') {
        log.msg = `${String(log.method)} ${log.route} ${String(log.status)} ${String(log.ms)} ms`;
        for (const field of REQUEST_FIELDS) delete log[field];
      }
      out.write(prettify(log));
    },
  };
}

/**
 * Nest's start-up chatter: a line per module loaded and per route mapped (about 80), then "starting"/"started". The
 * start-up says what matters itself (engines, URL, docs, mode), so these go to debug (LOG_LEVEL=debug shows them).
 */
const NEST_START_UP_CONTEXTS = new Set([
  'InstanceLoader',
  'RoutesResolver',
  'RouterExplorer',
  'NestFactory',
  'NestApplication',
]);

/** Routes Nest's own logging into the structured logger. */
export class NestPinoLogger implements LoggerService {
  constructor(private readonly logger: PurserLogger) {}
  log(message: unknown, context?: string) {
    if (context !== undefined && NEST_START_UP_CONTEXTS.has(context))
      this.logger.debug({ context }, String(message));
    else this.logger.info({ context }, String(message));
  }
  error(message: unknown, trace?: string, context?: string) {
    this.logger.error({ context, trace }, String(message));
  }
  warn(message: unknown, context?: string) {
    this.logger.warn({ context }, String(message));
  }
  debug(message: unknown, context?: string) {
    this.logger.debug({ context }, String(message));
  }
  verbose(message: unknown, context?: string) {
    this.logger.trace({ context }, String(message));
  }
}
