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

/** The base of an error class that always answers one HTTP status. */
function withStatus(status: number) {
  return class extends PurserError {
    readonly statusCode = status;
  };
}

/** 400: the request is malformed. */
export class ValidationError extends withStatus(400) {}
/** 401 */
export class UnauthenticatedError extends withStatus(401) {}
/** 403 */
export class ForbiddenError extends withStatus(403) {}
/** 404 */
export class NotFoundError extends withStatus(404) {}
/** 409: a uniqueness clash or a state that forbids the change. */
export class ConflictError extends withStatus(409) {}
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
export class RuleViolationError extends withStatus(422) {}
/** 429 */
export class LimitExceededError extends withStatus(429) {}
/** 503: a bounded wait ran out (e.g. projections behind a requested position). */
export class NotReadyError extends withStatus(503) {}
/** Read store: a unique key already exists. */
export class DuplicateKeyError extends withStatus(409) {}

/** A decider was handed a state that a newer fold has superseded; the command is retried on a fresh state. */
export class StaleStateError extends withStatus(409) {}
