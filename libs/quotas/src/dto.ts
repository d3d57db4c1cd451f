import { applyDecorators } from '@nestjs/common';
import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import {
  ArrayMaxSize,
  IsArray,
  IsIn,
  IsInt,
  IsObject,
  IsOptional,
  Matches,
  Max,
  Min,
  ValidateIf,
  ValidateNested,
} from 'class-validator';
import {
  CurrencyField,
  CursorField,
  DECIMAL_PATTERN,
  DecimalField,
  ID_PATTERN,
  IdField,
  INSTANT_PATTERN,
  LimitField,
  MinPositionField,
} from '@purser/platform';
import { Enforcement, QuotaPeriod } from './events';

export const ID = ID_PATTERN;
export const ITEM_ID = /^[A-Za-z0-9_.:/@-]{1,128}$/;
export const ITEM_TYPES = ['Agent', 'Tool', 'Assistant', 'Prompt'];
export const LIMIT = DECIMAL_PATTERN;
const INSTANT = INSTANT_PATTERN;
const AN_ID = '$property must be an id';

const THRESHOLDS = {
  type: 'array',
  items: { type: 'integer', minimum: 1, maximum: 100 },
  maxItems: 10,
  description: 'Percentages of the limit that raise a warning, once per period',
} as const;
const PERIODS: QuotaPeriod[] = ['day', 'week', 'month', 'none'];
const ENFORCEMENTS: Enforcement[] = ['hard', 'soft'];

// The field decorators below list their parts in the order stacked decorators apply (the last first), so that the
// validation messages keep the order they had when the DTOs stacked them.

/** A quota's period, optional (with its default when defining). */
const PeriodField = (byDefault?: QuotaPeriod) =>
  applyDecorators(
    IsIn(PERIODS),
    IsOptional(),
    ApiPropertyOptional({ type: String, enum: PERIODS, ...(byDefault ? { default: byDefault } : {}) }),
  );

/** A quota's enforcement, optional (with its default when defining). */
const EnforcementField = (byDefault?: Enforcement) =>
  applyDecorators(
    IsIn(ENFORCEMENTS),
    IsOptional(),
    ApiPropertyOptional({ type: String, enum: ENFORCEMENTS, ...(byDefault ? { default: byDefault } : {}) }),
  );

/** A quota's warning thresholds: up to 10 whole percents from 1 to 100, optional. */
const ThresholdsField = (byDefault?: number[]) =>
  applyDecorators(
    Max(100, { each: true }),
    Min(1, { each: true }),
    IsInt({ each: true }),
    ArrayMaxSize(10),
    IsArray(),
    IsOptional(),
    ApiPropertyOptional({ ...THRESHOLDS, ...(byDefault ? { default: byDefault } : {}) }),
  );

/** An instant with a zone (the decisions' from/to). */
const INSTANT_QUERY = { type: String, pattern: INSTANT.source } as const;

export class DefineQuotaDto {
  @ApiProperty({ type: String, enum: ['Org', 'Team', 'User'] })
  @IsIn(['Org', 'Team', 'User'])
  entityType: 'Org' | 'Team' | 'User';

  @IdField({ message: AN_ID })
  entityId: string;

  @ApiPropertyOptional({
    type: String,
    enum: [...ITEM_TYPES, null],
    nullable: true,
    description: 'Only this item type (all when omitted)',
  })
  @IsOptional()
  @ValidateIf((o) => o.itemType !== null)
  @IsIn(ITEM_TYPES)
  itemType?: string | null;

  @ApiPropertyOptional({
    type: String,
    pattern: ITEM_ID.source,
    nullable: true,
    description: 'Only this item (needs itemType)',
  })
  @IsOptional()
  @ValidateIf((o) => o.itemId !== null)
  @Matches(ITEM_ID, { message: 'itemId must be 1-128 characters of [A-Za-z0-9_.:/@-]' })
  itemId?: string | null;

  @ApiProperty({ type: String, enum: ['cost', 'tokens', 'requests'] })
  @IsIn(['cost', 'tokens', 'requests'])
  metric: 'cost' | 'tokens' | 'requests';

  @DecimalField({
    example: '100.00',
    description: 'Decimal string: base-currency amount for cost, a whole number otherwise',
  })
  limit: string;

  @PeriodField('month')
  period?: QuotaPeriod;

  @EnforcementField('hard')
  enforcement?: Enforcement;

  @ThresholdsField([50, 80, 90])
  thresholds?: number[];

  @CurrencyField({
    optional: true,
    known: false,
    description: "For cost quotas: must be the org's base currency (the default)",
    message: 'currency must be an ISO 4217 code',
  })
  currency?: string;
}

export class ChangeQuotaDto {
  @DecimalField({ optional: true, message: 'limit must be a non-negative decimal string' })
  limit?: string;

  @PeriodField()
  period?: QuotaPeriod;

  @EnforcementField()
  enforcement?: Enforcement;

  @ThresholdsField()
  thresholds?: number[];
}

export class EstimateDto {
  @DecimalField({
    optional: true,
    example: '0.05',
    description: 'Expected cost (needed by cost quotas)',
    message: 'estimate.amount must be a non-negative decimal string',
  })
  amount?: string;

  @CurrencyField({ optional: true, known: false, message: 'estimate.currency must be an ISO 4217 code' })
  currency?: string;

  @ApiPropertyOptional({
    type: 'integer',
    minimum: 0,
    maximum: 1_000_000_000_000,
    example: 1500,
    description: 'Expected tokens (needed by token quotas)',
  })
  @IsOptional()
  @IsInt()
  @Min(0)
  @Max(1_000_000_000_000)
  tokens?: number;
}

export class QuotaCheckDto {
  @IdField({ message: AN_ID })
  userId: string;

  @IdField({
    optional: true,
    description: "The team the spend is for (default: the user's primary team)",
    message: AN_ID,
  })
  teamId?: string;

  @ApiProperty({ type: String, enum: ITEM_TYPES })
  @IsIn(ITEM_TYPES)
  itemType: string;

  @ApiProperty({ type: String, pattern: ITEM_ID.source, example: 'research-agent' })
  @Matches(ITEM_ID, { message: 'itemId must be 1-128 characters of [A-Za-z0-9_.:/@-]' })
  itemId: string;

  @ApiProperty({ type: EstimateDto })
  @IsObject()
  @ValidateNested()
  @Type(() => EstimateDto)
  estimate: EstimateDto;
}

export class QuotaListQuery {
  @ApiPropertyOptional({ type: String, enum: ['Org', 'Team', 'User'] })
  @IsOptional()
  @IsIn(['Org', 'Team', 'User'])
  entityType?: 'Org' | 'Team' | 'User';

  @IdField({ optional: true, message: AN_ID })
  entityId?: string;

  @MinPositionField({ description: 'Wait until usage up to this position is counted (else 503)' })
  minPosition?: string;
}

export class PositionOnlyQuery {
  @MinPositionField({ description: 'Wait until usage up to this position is counted (else 503)' })
  minPosition?: string;
}

export class DecisionsQuery {
  @ApiPropertyOptional({ ...INSTANT_QUERY, example: '2026-11-25T14:00:00Z', description: 'From (inclusive)' })
  @IsOptional()
  @Matches(INSTANT, { message: 'from must be an ISO-8601 instant' })
  from?: string;

  @ApiPropertyOptional({ ...INSTANT_QUERY, example: '2026-11-25T15:00:00Z', description: 'To (exclusive)' })
  @IsOptional()
  @Matches(INSTANT, { message: 'to must be an ISO-8601 instant' })
  to?: string;

  @LimitField({ default: 100, max: 1000 })
  limit?: number;

  @CursorField()
  cursor?: string;

  @MinPositionField()
  minPosition?: string;
}

export class RefusalsQuery extends DecisionsQuery {
  @IdField({ optional: true, description: 'Only checks made for this user', message: AN_ID })
  userId?: string;
}

export class AlertsQuery extends DecisionsQuery {
  @IdField({ optional: true, description: 'Only this quota', message: AN_ID })
  quotaId?: string;
}
