import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Transform, Type } from 'class-transformer';
import {
  IsIn,
  IsInt,
  IsISO8601,
  IsOptional,
  IsString,
  Matches,
  Max,
  MaxLength,
  Min,
  ValidationArguments,
  registerDecorator,
} from 'class-validator';
import { isCurrency } from '@purser/core';
import { ITEM_TYPES } from './events';
import { DIMENSIONS, GroupKey } from './queries';

const ID = /^[A-Za-z0-9_-]{1,64}$/;
const DATE_OR_INSTANT = /^\d{4}-\d{2}-\d{2}(T\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:\d{2}))?$/;
const GROUP_KEYS = ['hour', 'day', 'week', 'month', ...DIMENSIONS];

function IsCurrencyCode() {
  return (object: object, propertyName: string) =>
    registerDecorator({
      name: 'isCurrencyCode',
      target: object.constructor,
      propertyName,
      validator: {
        validate: (v: unknown) => isCurrency(v),
        defaultMessage: (a?: ValidationArguments) =>
          `${a?.property} must be an ISO 4217 currency code such as USD`,
      },
    });
}

export class SetExchangeRateDto {
  @ApiProperty({ example: 'USD', description: 'The currency converted from' })
  @IsCurrencyCode()
  currency: string;

  @ApiProperty({
    example: '0.92',
    description: 'Units of the base currency for one unit of `currency`; positive, at most 12 decimals',
  })
  @IsString()
  @Matches(/^\d{1,12}(\.\d{1,12})?$/, {
    message: 'rate must be a positive decimal string with at most 12 decimals',
  })
  @Matches(/[1-9]/, { message: 'rate must be greater than zero' })
  rate: string;

  @ApiProperty({
    example: '2026-01-01T00:00:00Z',
    description: 'Usage that occurred at or after this instant uses this rate',
  })
  @IsISO8601({ strict: true }, { message: 'effectiveFrom must be an ISO-8601 instant' })
  effectiveFrom: string;
}

class RangeQuery {
  @ApiProperty({
    example: '2026-11-01',
    description: 'Start: a local date in the org time zone, or an ISO instant',
  })
  @Matches(DATE_OR_INSTANT, { message: 'from must be YYYY-MM-DD or an ISO-8601 instant' })
  from: string;

  @ApiProperty({ example: '2026-12-01', description: 'End (exclusive): a local date, or an ISO instant' })
  @Matches(DATE_OR_INSTANT, { message: 'to must be YYYY-MM-DD or an ISO-8601 instant' })
  to: string;

  @ApiPropertyOptional({
    description: 'Wait until the read models include this position (from a command response)',
  })
  @IsOptional()
  @Matches(/^\d{1,20}$/, { message: 'minPosition must be a non-negative integer' })
  minPosition?: string;
}

class FilteredRangeQuery extends RangeQuery {
  @ApiPropertyOptional({ description: 'Only this team and its sub-teams' })
  @IsOptional()
  @Matches(ID, { message: 'teamId must be an id' })
  teamId?: string;

  @ApiPropertyOptional()
  @IsOptional()
  @Matches(ID, { message: 'userId must be an id' })
  userId?: string;

  @ApiPropertyOptional({ enum: ITEM_TYPES })
  @IsOptional()
  @IsIn(ITEM_TYPES)
  itemType?: string;

  @ApiPropertyOptional({ description: 'With itemType' })
  @IsOptional()
  @Matches(/^[A-Za-z0-9_.:/@-]{1,128}$/, { message: 'itemId must be 1-128 characters of [A-Za-z0-9_.:/@-]' })
  itemId?: string;
}

export class ExpenditureQueryDto extends FilteredRangeQuery {
  @ApiPropertyOptional({
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
  @ApiProperty({ enum: DIMENSIONS })
  @IsIn(DIMENSIONS)
  by: (typeof DIMENSIONS)[number];

  @ApiPropertyOptional({ default: 10, minimum: 1, maximum: 100 })
  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(100)
  limit?: number;
}

export class RecordsQueryDto extends FilteredRangeQuery {
  @ApiPropertyOptional({ default: 100, minimum: 1, maximum: 1000 })
  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(1000)
  limit?: number;

  @ApiPropertyOptional()
  @IsOptional()
  @IsString()
  @MaxLength(2000)
  cursor?: string;
}

export class CsvQueryDto extends FilteredRangeQuery {}
