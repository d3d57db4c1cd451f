import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import {
  ArrayMaxSize,
  IsArray,
  IsIn,
  IsInt,
  IsObject,
  IsOptional,
  IsString,
  Matches,
  Max,
  MaxLength,
  Min,
  ValidateIf,
  ValidateNested,
} from 'class-validator';

export const ID = /^[A-Za-z0-9_-]{1,64}$/;
export const ITEM_ID = /^[A-Za-z0-9_.:/@-]{1,128}$/;
export const ITEM_TYPES = ['Agent', 'Tool', 'Assistant', 'Prompt'];
export const LIMIT = /^\d{1,18}(\.\d{1,9})?$/;
const POSITION = /^\d{1,20}$/;

export class DefineQuotaDto {
  @ApiProperty({ enum: ['Org', 'Team', 'User'] })
  @IsIn(['Org', 'Team', 'User'])
  entityType: 'Org' | 'Team' | 'User';

  @ApiProperty()
  @Matches(ID, { message: 'entityId must be an id' })
  entityId: string;

  @ApiPropertyOptional({
    enum: ITEM_TYPES,
    nullable: true,
    description: 'Only this item type (all when omitted)',
  })
  @IsOptional()
  @ValidateIf((o) => o.itemType !== null)
  @IsIn(ITEM_TYPES)
  itemType?: string | null;

  @ApiPropertyOptional({ nullable: true, description: 'Only this item (needs itemType)' })
  @IsOptional()
  @ValidateIf((o) => o.itemId !== null)
  @Matches(ITEM_ID, { message: 'itemId must be 1-128 characters of [A-Za-z0-9_.:/@-]' })
  itemId?: string | null;

  @ApiProperty({ enum: ['cost', 'tokens', 'requests'] })
  @IsIn(['cost', 'tokens', 'requests'])
  metric: 'cost' | 'tokens' | 'requests';

  @ApiProperty({
    example: '100.00',
    description: 'Decimal string: base-currency amount for cost, a whole number otherwise',
  })
  @IsString()
  @Matches(LIMIT, { message: 'limit must be a non-negative decimal string' })
  limit: string;

  @ApiPropertyOptional({ enum: ['day', 'week', 'month', 'none'], default: 'month' })
  @IsOptional()
  @IsIn(['day', 'week', 'month', 'none'])
  period?: 'day' | 'week' | 'month' | 'none';

  @ApiPropertyOptional({ enum: ['hard', 'soft'], default: 'hard' })
  @IsOptional()
  @IsIn(['hard', 'soft'])
  enforcement?: 'hard' | 'soft';

  @ApiPropertyOptional({ type: [Number], default: [50, 80, 90] })
  @IsOptional()
  @IsArray()
  @ArrayMaxSize(10)
  @IsInt({ each: true })
  @Min(1, { each: true })
  @Max(100, { each: true })
  thresholds?: number[];

  @ApiPropertyOptional({ description: "For cost quotas: must be the org's base currency (the default)" })
  @IsOptional()
  @Matches(/^[A-Z]{3}$/, { message: 'currency must be an ISO 4217 code' })
  currency?: string;
}

export class ChangeQuotaDto {
  @ApiPropertyOptional()
  @IsOptional()
  @IsString()
  @Matches(LIMIT, { message: 'limit must be a non-negative decimal string' })
  limit?: string;

  @ApiPropertyOptional({ enum: ['day', 'week', 'month', 'none'] })
  @IsOptional()
  @IsIn(['day', 'week', 'month', 'none'])
  period?: 'day' | 'week' | 'month' | 'none';

  @ApiPropertyOptional({ enum: ['hard', 'soft'] })
  @IsOptional()
  @IsIn(['hard', 'soft'])
  enforcement?: 'hard' | 'soft';

  @ApiPropertyOptional({ type: [Number] })
  @IsOptional()
  @IsArray()
  @ArrayMaxSize(10)
  @IsInt({ each: true })
  @Min(1, { each: true })
  @Max(100, { each: true })
  thresholds?: number[];
}

export class EstimateDto {
  @ApiPropertyOptional({ example: '0.05', description: 'Expected cost (needed by cost quotas)' })
  @IsOptional()
  @IsString()
  @Matches(LIMIT, { message: 'estimate.amount must be a non-negative decimal string' })
  amount?: string;

  @ApiPropertyOptional({ example: 'USD' })
  @IsOptional()
  @Matches(/^[A-Z]{3}$/, { message: 'estimate.currency must be an ISO 4217 code' })
  currency?: string;

  @ApiPropertyOptional({ example: 1500, description: 'Expected tokens (needed by token quotas)' })
  @IsOptional()
  @IsInt()
  @Min(0)
  @Max(1_000_000_000_000)
  tokens?: number;
}

export class QuotaCheckDto {
  @ApiProperty()
  @Matches(ID, { message: 'userId must be an id' })
  userId: string;

  @ApiPropertyOptional({ description: "The team the spend is for (default: the user's primary team)" })
  @IsOptional()
  @Matches(ID, { message: 'teamId must be an id' })
  teamId?: string;

  @ApiProperty({ enum: ITEM_TYPES })
  @IsIn(ITEM_TYPES)
  itemType: string;

  @ApiProperty({ example: 'research-agent' })
  @Matches(ITEM_ID, { message: 'itemId must be 1-128 characters of [A-Za-z0-9_.:/@-]' })
  itemId: string;

  @ApiProperty({ type: EstimateDto })
  @IsObject()
  @ValidateNested()
  @Type(() => EstimateDto)
  estimate: EstimateDto;
}

export class QuotaListQuery {
  @ApiPropertyOptional({ enum: ['Org', 'Team', 'User'] })
  @IsOptional()
  @IsIn(['Org', 'Team', 'User'])
  entityType?: 'Org' | 'Team' | 'User';

  @ApiPropertyOptional()
  @IsOptional()
  @Matches(ID, { message: 'entityId must be an id' })
  entityId?: string;

  @ApiPropertyOptional({ description: 'Wait until usage up to this position is counted' })
  @IsOptional()
  @Matches(POSITION, { message: 'minPosition must be a non-negative integer' })
  minPosition?: string;
}

export class PositionOnlyQuery {
  @ApiPropertyOptional({ description: 'Wait until usage up to this position is counted' })
  @IsOptional()
  @Matches(POSITION, { message: 'minPosition must be a non-negative integer' })
  minPosition?: string;
}

export class DecisionsQuery {
  @ApiPropertyOptional({ example: '2026-11-25T14:00:00Z' })
  @IsOptional()
  @Matches(/^\d{4}-\d{2}-\d{2}T[\d:.]+(Z|[+-]\d{2}:\d{2})$/, { message: 'from must be an ISO-8601 instant' })
  from?: string;

  @ApiPropertyOptional({ example: '2026-11-25T15:00:00Z' })
  @IsOptional()
  @Matches(/^\d{4}-\d{2}-\d{2}T[\d:.]+(Z|[+-]\d{2}:\d{2})$/, { message: 'to must be an ISO-8601 instant' })
  to?: string;

  @ApiPropertyOptional({ default: 100 })
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

  @ApiPropertyOptional()
  @IsOptional()
  @Matches(POSITION, { message: 'minPosition must be a non-negative integer' })
  minPosition?: string;
}

export class RefusalsQuery extends DecisionsQuery {
  @ApiPropertyOptional({ description: 'Only checks made for this user' })
  @IsOptional()
  @Matches(ID, { message: 'userId must be an id' })
  userId?: string;
}

export class AlertsQuery extends DecisionsQuery {
  @ApiPropertyOptional({ description: 'Only this quota' })
  @IsOptional()
  @Matches(ID, { message: 'quotaId must be an id' })
  quotaId?: string;
}
