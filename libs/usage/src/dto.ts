import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Transform } from 'class-transformer';
import { IsIn, IsISO8601, IsOptional, IsString, Matches } from 'class-validator';
import {
  CurrencyField,
  CursorField,
  DATE_OR_INSTANT_PATTERN,
  IdField,
  LimitField,
  MinPositionField,
} from '@purser/platform';
import { ITEM_TYPES } from './events';
import { DIMENSIONS, GroupKey } from './queries';

/** A local date (YYYY-MM-DD, in the org time zone) or an ISO-8601 instant with a zone. */
export const DATE_OR_INSTANT = DATE_OR_INSTANT_PATTERN;
const RATE = /^\d{1,12}(\.\d{1,12})?$/;
const ITEM_ID = /^[A-Za-z0-9_.:/@-]{1,128}$/;
const GRAIN_KEYS = ['hour', 'day', 'week', 'month'];
const GROUP_KEYS = [...GRAIN_KEYS, ...DIMENSIONS];
const G = `(${GRAIN_KEYS.join('|')})`;
const D = `(${DIMENSIONS.join('|')})`;
/** One or two keys, at most one of them a time grain. */
const GROUP_BY_PATTERN = `^(${G}|${D}|${G},${D}|${D},${G}|${D},${D})$`;

export class SetExchangeRateDto {
  @CurrencyField({
    description: 'The currency converted from',
    message: '$property must be an ISO 4217 currency code such as USD',
  })
  currency: string;

  @ApiProperty({
    type: String,
    pattern: RATE.source,
    example: '0.92',
    description:
      'Units of the base currency for one unit of `currency`: above zero, at most 12 integer and 12 fraction digits',
  })
  @IsString()
  @Matches(RATE, {
    message: 'rate must be a positive decimal string with at most 12 decimals',
  })
  @Matches(/[1-9]/, { message: 'rate must be greater than zero' })
  rate: string;

  @ApiProperty({
    type: String,
    format: 'date-time',
    example: '2026-01-01T00:00:00Z',
    description: 'Usage that occurred at or after this instant uses this rate',
  })
  @IsISO8601({ strict: true }, { message: 'effectiveFrom must be an ISO-8601 instant' })
  effectiveFrom: string;
}

class RangeQuery {
  @ApiProperty({
    type: String,
    pattern: DATE_OR_INSTANT.source,
    example: '2026-11-01',
    description: 'Start: a local date in the org time zone, or an ISO instant',
  })
  @Matches(DATE_OR_INSTANT, { message: 'from must be YYYY-MM-DD or an ISO-8601 instant' })
  from: string;

  @ApiProperty({
    type: String,
    pattern: DATE_OR_INSTANT.source,
    example: '2026-12-01',
    description: 'End (exclusive): a local date, or an ISO instant',
  })
  @Matches(DATE_OR_INSTANT, { message: 'to must be YYYY-MM-DD or an ISO-8601 instant' })
  to: string;

  @MinPositionField()
  minPosition?: string;
}

class FilteredRangeQuery extends RangeQuery {
  @IdField({
    optional: true,
    description: 'Only this team and its sub-teams',
    message: '$property must be an id',
  })
  teamId?: string;

  @IdField({ optional: true, message: '$property must be an id' })
  userId?: string;

  @ApiPropertyOptional({ type: String, enum: ITEM_TYPES })
  @IsOptional()
  @IsIn(ITEM_TYPES)
  itemType?: string;

  @ApiPropertyOptional({ type: String, pattern: ITEM_ID.source, description: 'With itemType' })
  @IsOptional()
  @Matches(ITEM_ID, { message: 'itemId must be 1-128 characters of [A-Za-z0-9_.:/@-]' })
  itemId?: string;
}

export class ExpenditureQueryDto extends FilteredRangeQuery {
  @ApiPropertyOptional({
    type: String,
    pattern: GROUP_BY_PATTERN,
    description: `Up to two of ${GROUP_KEYS.join(', ')}, comma-separated (at most one time grain), e.g. day,team`,
    example: 'day,team',
  })
  @IsOptional()
  @Transform(({ value }) =>
    typeof value === 'string'
      ? value
          .split(',')
          .map((s: string) => s.trim())
          .filter(Boolean)
      : value,
  )
  @IsIn(GROUP_KEYS, { each: true, message: `groupBy entries must be among ${GROUP_KEYS.join(', ')}` })
  groupBy?: GroupKey[];
}

export class TopQueryDto extends RangeQuery {
  @ApiProperty({ type: String, enum: DIMENSIONS })
  @IsIn(DIMENSIONS)
  by: (typeof DIMENSIONS)[number];

  @LimitField({ default: 10, max: 100 })
  limit?: number;
}

export class RecordsQueryDto extends FilteredRangeQuery {
  @LimitField({ default: 100, max: 1000 })
  limit?: number;

  @CursorField()
  cursor?: string;
}

export class CsvQueryDto extends FilteredRangeQuery {}
