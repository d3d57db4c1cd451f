import { ArgumentsHost, Catch, ExceptionFilter, HttpException, HttpStatus } from '@nestjs/common';
import { ValidationError as ClassValidatorError } from 'class-validator';
import { ErrorDetails, PurserError, ValidationError } from '@purser/core';
import { PurserLogger } from '../logger';
import { BodyRefusedError } from './json-body';

/** The one error shape: { statusCode, error, message, details }. */
export interface ErrorBody {
  statusCode: number;
  error: string;
  message: string;
  details: ErrorDetails;
}

export function errorBody(statusCode: number, message: string, details: ErrorDetails = []): ErrorBody {
  return {
    statusCode,
    error:
      HttpStatus[statusCode]
        ?.replace(/_/g, ' ')
        .toLowerCase()
        .replace(/\b\w/g, (c) => c.toUpperCase()) ?? 'Error',
    message,
    details,
  };
}

const FASTIFY_DETAILS: Record<number, ErrorDetails> = {
  413: [{ field: 'body', problem: 'too large' }],
  415: [{ field: 'Content-Type', problem: 'unsupported media type' }],
};

@Catch()
export class ErrorFilter implements ExceptionFilter {
  constructor(private readonly logger: PurserLogger) {}

  catch(exception: unknown, host: ArgumentsHost): void {
    const reply = host.switchToHttp().getResponse();
    const body = this.toBody(exception);
    if (exception instanceof BodyRefusedError) {
      // One line, no stack: a refused body is the client's mistake (or an attack), not ours.
      const req = host.switchToHttp().getRequest<{ id?: string; method?: string; url?: string }>();
      this.logger.warn(
        { reqId: req?.id, method: req?.method, url: req?.url?.split('?', 1)[0], reason: exception.reason },
        'request body refused',
      );
    }
    if (body.statusCode >= 500 && body.statusCode !== 503) {
      const err = exception as Error;
      this.logger.error({ err: { message: err?.message, stack: err?.stack } }, 'unhandled error');
    }
    void reply.status(body.statusCode).header('content-type', 'application/json; charset=utf-8').send(body);
  }

  toBody(exception: unknown): ErrorBody {
    if (exception instanceof PurserError)
      return errorBody(exception.statusCode, exception.message, exception.details);
    if (exception instanceof HttpException) {
      const status = exception.getStatus();
      const res = exception.getResponse();
      const message =
        typeof res === 'string'
          ? res
          : Array.isArray((res as any).message)
            ? (res as any).message.join('; ')
            : ((res as any).message ?? exception.message);
      // Nest maps Fastify's own refusals (body too large, unsupported media type) to HttpExceptions.
      return errorBody(status, String(message), FASTIFY_DETAILS[status] ?? []);
    }
    const status = (exception as { statusCode?: number })?.statusCode;
    if (typeof status === 'number' && status >= 400 && status < 500) {
      // Fastify's own refusals: body too large, unsupported media type, ...
      return errorBody(status, (exception as Error).message, FASTIFY_DETAILS[status] ?? []);
    }
    return errorBody(500, 'internal error');
  }
}

/** class-validator errors to details naming the fields at fault (nested paths dotted). */
export function validationDetails(errors: ClassValidatorError[], parent = ''): ErrorDetails {
  const out: ErrorDetails = [];
  for (const e of errors) {
    const field = parent ? `${parent}.${e.property}` : e.property;
    for (const problem of Object.values(e.constraints ?? {})) out.push({ field, problem });
    if (e.children?.length) out.push(...validationDetails(e.children, field));
  }
  return out;
}

export function validationException(errors: ClassValidatorError[]): ValidationError {
  const details = validationDetails(errors);
  const fields = [...new Set(details.map((d) => d.field))].join(', ');
  return new ValidationError(`invalid request: ${fields}`, details);
}
