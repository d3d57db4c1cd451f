import { LoggerService } from '@nestjs/common';
import pino from 'pino';

export type PurserLogger = pino.Logger;

/** Structured JSON logs, one line per event. Never log secrets, passwords or tokens. */
export function createLogger(level: string, base: Record<string, unknown> = {}): PurserLogger {
  return pino({
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
  });
}

/** Routes Nest's own logging into the structured logger. */
export class NestPinoLogger implements LoggerService {
  constructor(private readonly logger: PurserLogger) {}
  log(message: unknown, context?: string) {
    this.logger.info({ context }, String(message));
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
