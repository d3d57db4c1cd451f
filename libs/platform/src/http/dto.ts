import { applyDecorators } from '@nestjs/common';
import { ApiProperty, ApiPropertyOptions } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import {
  IsInt,
  IsISO8601,
  IsOptional,
  IsString,
  Matches,
  Max,
  MaxLength,
  Min,
  ValidateIf,
  ValidationArguments,
  ValidationOptions,
  registerDecorator,
} from 'class-validator';
import { isCurrency } from '@purser/core';
import { ID_PATTERN } from './ids';

/**
 * The DTO pieces every context shares, defined once. Each decorator carries both the class-validator rule and the
 * OpenAPI property with the same pattern, so the document and the validation cannot drift apart.
 */

/** ISO 4217 currency codes (the known list is checked too: see `isCurrency`). */
export const CURRENCY_PATTERN = /^[A-Z]{3}$/;
/** Non-negative decimal amounts: at most 18 integer and 9 fraction digits (the money scale). */
export const DECIMAL_PATTERN = /^\d{1,18}(\.\d{1,9})?$/;
/** Global positions (from a command response), as decimal strings. */
export const POSITION_PATTERN = /^\d{1,20}$/;
/** If-Match: a revision, bare or as a (weak) entity tag: 3, "3" or W/"3". */
export const IF_MATCH_PATTERN = /^(W\/)?("\d{1,19}"|\d{1,19})$/;
// Month lengths are in the pattern (29 February in a common year is the one calendar rule beyond it).
const DAY =
  '\\d{4}-((0[13578]|1[02])-(0[1-9]|[12]\\d|3[01])|(0[469]|11)-(0[1-9]|[12]\\d|30)|02-(0[1-9]|1\\d|2\\d))';
const TIME = '([01]\\d|2[0-3]):[0-5]\\d(:[0-5]\\d(\\.\\d{1,3}0{0,6})?)?';
const ZONE = '(Z|[+-]([01]\\d|2[0-3]):[0-5]\\d)';
/** An ISO-8601 instant with a zone (seconds optional; fraction digits beyond milliseconds only as zeros). */
export const INSTANT_PATTERN = new RegExp(`^${DAY}T${TIME}${ZONE}$`);
/** A local date (YYYY-MM-DD) or an ISO-8601 instant with a zone. */
export const DATE_OR_INSTANT_PATTERN = new RegExp(`^${DAY}(T${TIME}${ZONE})?$`);
/** X-Correlation-Id. */
export const CORRELATION_PATTERN = /^[A-Za-z0-9._:-]{1,128}$/;

/** Every code the currency validator accepts, derived from it (so the document's list cannot drift from it). */
export const CURRENCY_CODES: string[] = (() => {
  const out: string[] = [];
  const A = 65;
  for (let i = 0; i < 26 * 26 * 26; i++) {
    const code = String.fromCharCode(A + Math.floor(i / 676), A + (Math.floor(i / 26) % 26), A + (i % 26));
    if (isCurrency(code)) out.push(code);
  }
  return out;
})();

/** JSON-schema fragments for the OpenAPI document (the same sources as the validators). */
export const ApiSchemas = {
  id: { type: 'string', pattern: ID_PATTERN.source, example: 'acme-eng' },
  currency: { type: 'string', pattern: CURRENCY_PATTERN.source, example: 'USD' },
  decimal: {
    type: 'string',
    pattern: DECIMAL_PATTERN.source,
    example: '12.5',
    description:
      'An exact decimal string: at most 18 integer and 9 fraction digits (999999999999999999.999999999)',
  },
  /** Amounts the server writes: signed decimal strings (differences), canonical form. */
  money: {
    type: 'string',
    pattern: '^-?\\d+(\\.\\d{1,9})?$',
    example: '12.5',
    description:
      'An exact decimal string with at most 9 fraction digits; sums and converted amounts have no size bound',
  },
  position: { type: 'string', pattern: POSITION_PATTERN.source, example: '42' },
  revision: { type: 'string', pattern: '^\\d{1,19}$', example: '3' },
  instant: { type: 'string', format: 'date-time', example: '2026-11-25T14:02:00.000Z' },
  ifMatch: { type: 'string', pattern: IF_MATCH_PATTERN.source, example: '"3"' },
  correlationId: { type: 'string', pattern: CORRELATION_PATTERN.source },
} as const;

type FieldOptions = Omit<ApiPropertyOptions, 'type' | 'required' | 'nullable'> & {
  /** Optional (may be omitted). */
  optional?: boolean;
  /** May be null (implies nothing about optional). */
  nullable?: boolean;
  /** The validation message; `$property` is replaced by the field name. */
  message?: string;
};

function api(options: FieldOptions, schema: Record<string, unknown>): PropertyDecorator {
  const { optional, nullable, message: _message, ...rest } = options;
  return ApiProperty({
    ...(schema as ApiPropertyOptions),
    ...rest,
    required: !optional,
    ...(nullable ? { nullable: true } : {}),
  } as ApiPropertyOptions);
}

/**
 * The presence rules. `optional`: omitted or null skips the field's rules (class-validator's IsOptional, as the
 * contexts always had); `nullable` alone: null skips them, a missing field is still checked (so refused).
 */
function presence(options: FieldOptions): PropertyDecorator[] {
  if (options.optional) return [IsOptional()];
  if (options.nullable) return [ValidateIf((_o: object, v: unknown) => v !== null)];
  return [];
}

/** An id field (`^[A-Za-z0-9_-]{1,64}$`). */
export function IdField(options: FieldOptions & { each?: boolean } = {}): PropertyDecorator {
  const message = options.message ?? '$property must be 1-64 characters of [A-Za-z0-9_-]';
  const { each, ...rest } = options;
  const schema = each
    ? { type: 'array', items: ApiSchemas.id }
    : { type: 'string', pattern: ID_PATTERN.source };
  return applyDecorators(
    Matches(ID_PATTERN, { message, ...(each ? { each: true } : {}) }),
    api(rest, schema),
    ...presence(rest),
  );
}

/**
 * A currency field: ISO 4217. `known: false` checks only the shape (three capitals) and leaves the rest to a rule
 * (a quota's currency must be the org's base currency, refused with 422).
 */
export function CurrencyField(options: FieldOptions & { known?: boolean } = {}): PropertyDecorator {
  const { known = true, ...rest } = options;
  const message = rest.message ?? '$property must be an ISO 4217 currency code such as USD';
  return applyDecorators(
    ...(known ? [IsCurrencyCode({ message })] : [Matches(CURRENCY_PATTERN, { message })]),
    api(
      { example: 'USD', ...rest },
      { type: 'string', pattern: CURRENCY_PATTERN.source, ...(known ? { enum: CURRENCY_CODES } : {}) },
    ),
    ...presence(rest),
  );
}

/** A non-negative decimal amount as a string: at most 18 integer and 9 fraction digits. */
export function DecimalField(options: FieldOptions = {}): PropertyDecorator {
  const message = options.message ?? '$property must be a non-negative decimal string';
  return applyDecorators(
    Matches(DECIMAL_PATTERN, { message }),
    IsString(),
    api(options, { type: 'string', pattern: DECIMAL_PATTERN.source }),
    ...presence(options),
  );
}

/** ?minPosition=: wait until the read models include this position (else 503). */
export function MinPositionField(options: FieldOptions = {}): PropertyDecorator {
  return applyDecorators(
    Matches(POSITION_PATTERN, { message: 'minPosition must be a non-negative integer' }),
    api(
      {
        description:
          'Wait until the read models include this position (from a command response); 503 if they do not in time',
        ...options,
        optional: true,
      },
      { type: 'string', pattern: POSITION_PATTERN.source },
    ),
    IsOptional(),
  );
}

/** ?asOf=: an ISO-8601 instant (strict). */
export function AsOfField(options: FieldOptions = {}): PropertyDecorator {
  return applyDecorators(
    IsISO8601(
      { strict: true },
      { message: 'asOf must be an ISO-8601 date-time such as 2026-01-31T12:00:00Z' },
    ),
    api(
      {
        description: 'ISO-8601 instant: answer with the state at that time, folded from the history',
        ...options,
        optional: true,
      },
      { type: 'string', format: 'date-time' },
    ),
    IsOptional(),
  );
}

/** ?cursor=: the nextCursor of the previous page. */
export function CursorField(options: FieldOptions = {}): PropertyDecorator {
  return applyDecorators(
    MaxLength(2000),
    IsString(),
    api(
      { description: 'nextCursor from the previous page', ...options, optional: true },
      { type: 'string', maxLength: 2000 },
    ),
    IsOptional(),
  );
}

/** ?limit=: an integer page size in [1, max]. */
export function LimitField(options: FieldOptions & { max: number; default: number }): PropertyDecorator {
  const { max, default: dflt, ...rest } = options;
  return applyDecorators(
    Max(max),
    Min(1),
    IsInt(),
    Type(() => Number),
    api({ ...rest, optional: true, default: dflt }, { type: 'integer', minimum: 1, maximum: max }),
    IsOptional(),
  );
}

/** An ISO 4217 code the server knows (core's list). */
export function IsCurrencyCode(validationOptions: ValidationOptions = {}): PropertyDecorator {
  return (object: object, propertyName: string | symbol) =>
    registerDecorator({
      name: 'isCurrencyCode',
      target: object.constructor,
      propertyName: String(propertyName),
      options: validationOptions,
      validator: {
        validate: (v: unknown) => isCurrency(v),
        defaultMessage: (a?: ValidationArguments) =>
          `${a?.property} must be an ISO 4217 currency code such as USD`,
      },
    });
}

/** ?minPosition= alone (queries that read projections). */
export class MinPositionQuery {
  @MinPositionField()
  minPosition?: string;
}
