/**
 * Domain and infrastructure errors. The HTTP layer maps them to one JSON shape:
 * { statusCode, error, message, details }.
 */
export type ErrorDetails = Array<{ field?: string; problem: string; [k: string]: unknown }>;

export abstract class PurserError extends Error {
  abstract readonly statusCode: number;
  constructor(
    message: string,
    readonly details: ErrorDetails = [],
  ) {
    super(message);
    this.name = new.target.name;
  }
}

/** 400: the request is malformed. */
export class ValidationError extends PurserError {
  readonly statusCode = 400;
}
/** 401 */
export class UnauthenticatedError extends PurserError {
  readonly statusCode = 401;
}
/** 403 */
export class ForbiddenError extends PurserError {
  readonly statusCode = 403;
}
/** 404 */
export class NotFoundError extends PurserError {
  readonly statusCode = 404;
}
/** 409: a uniqueness clash or a state that forbids the change. */
export class ConflictError extends PurserError {
  readonly statusCode = 409;
}
/** 409: optimistic concurrency. */
export class WrongExpectedVersionError extends PurserError {
  readonly statusCode = 409;
  constructor(
    readonly streamId: string,
    readonly expected: string,
    readonly actual: string,
  ) {
    super(`stream ${streamId} is at revision ${actual}, expected ${expected}`, [
      { field: 'revision', problem: 'stale', expected, actual },
    ]);
  }
}
/** 422: the command is well formed but a business rule refuses it. */
export class RuleViolationError extends PurserError {
  readonly statusCode = 422;
}
/** 429 */
export class LimitExceededError extends PurserError {
  readonly statusCode = 429;
}
/** 503: a bounded wait ran out (e.g. projections behind a requested position). */
export class NotReadyError extends PurserError {
  readonly statusCode = 503;
}
/** Read store: a unique key already exists. */
export class DuplicateKeyError extends PurserError {
  readonly statusCode = 409;
}

/** A decider was handed a state that a newer fold has superseded; the command is retried on a fresh state. */
export class StaleStateError extends PurserError {
  readonly statusCode = 409;
}
