import { ValidationPipe, ValidationPipeOptions } from '@nestjs/common';
import { ValidationArguments, registerDecorator } from 'class-validator';
import { instantMessage, parseInstant, parseLocalDate } from '@purser/core';
import { validationException } from './errors.filter';

/** The one set of class-validator options of the edge: unknown fields refused, values transformed, one error shape. */
export const VALIDATION_OPTIONS: ValidationPipeOptions = {
  whitelist: true,
  forbidNonWhitelisted: true,
  transform: true,
  exceptionFactory: validationException,
};

export function createValidationPipe(): ValidationPipe {
  return new ValidationPipe(VALIDATION_OPTIONS);
}

function instantProblem(value: unknown, dateAllowed: boolean) {
  if (dateAllowed) {
    const d = parseLocalDate(value);
    if (d.ok) return null;
    if (d.problem === 'calendar') return d.problem;
  }
  const i = parseInstant(value);
  return i.ok ? null : i.problem;
}

function strictInstantDecorator(name: string, dateAllowed: boolean) {
  return () => (object: object, propertyName: string) =>
    registerDecorator({
      name,
      target: object.constructor,
      propertyName,
      validator: {
        validate: (v: unknown) => instantProblem(v, dateAllowed) === null,
        defaultMessage: (a?: ValidationArguments) =>
          instantMessage(
            a?.property ?? propertyName,
            instantProblem(a?.value, dateAllowed) ?? 'format',
            dateAllowed,
          ),
      },
    });
}

/**
 * A strict ISO-8601 instant with a zone, at most millisecond precision, checked against the calendar (see
 * @purser/core instants). For DTO fields such as asOf, effectiveFrom and the quota decisions' from/to.
 */
export const IsInstant = strictInstantDecorator('isInstant', false);

/** A strict YYYY-MM-DD date or instant (the reports' from/to). */
export const IsDateOrInstant = strictInstantDecorator('isDateOrInstant', true);
