import { ApiPropertyOptional } from '@nestjs/swagger';
import { IsIn, IsOptional, Matches } from 'class-validator';
import { LimitField, MinPositionField } from '@purser/platform';

export const AUDIT_FORMATS = ['json', 'csv', 'jsonl'] as const;
export type AuditFormat = (typeof AUDIT_FORMATS)[number];
export const MAX_PAGE = 500;

const ACTOR = /^((user|apiKey|system):)?[A-Za-z0-9._:@-]{1,128}$/;
const NAME = /^[A-Za-z0-9._:@-]{1,200}$/;
const TYPES = /^[A-Za-z][A-Za-z0-9]{0,63}(,[A-Za-z][A-Za-z0-9]{0,63}){0,49}$/;
const SEQ = /^\d{1,15}$/;

/** GET /v1/orgs/:orgId/audit: filters (AND-ed), cursor paging by seq, and the format of the answer. */
export class AuditQueryDto {
  @ApiPropertyOptional({
    type: String,
    pattern: ACTOR.source,
    description: 'Who acted: type:id (user:..., apiKey:..., system:purser) or an id of any type',
  })
  @IsOptional()
  @Matches(ACTOR, { message: 'actor must be type:id or an id' })
  actor?: string;

  @ApiPropertyOptional({
    type: String,
    pattern: NAME.source,
    description:
      'org, teams, user, credential, session, apikey, quotas, quotaledger, usage, rates, access-policy',
  })
  @IsOptional()
  @Matches(NAME, { message: 'entityType must be 1-200 characters of [A-Za-z0-9._:@-]' })
  entityType?: string;

  @ApiPropertyOptional({ type: String, pattern: NAME.source })
  @IsOptional()
  @Matches(NAME, { message: 'entityId must be 1-200 characters of [A-Za-z0-9._:@-]' })
  entityId?: string;

  @ApiPropertyOptional({
    type: String,
    pattern: TYPES.source,
    description: 'Event types, comma-separated (up to 50), e.g. UserCreated,SignInSucceeded',
  })
  @IsOptional()
  @Matches(TYPES, { message: 'type must be event type names, comma-separated' })
  type?: string;

  @ApiPropertyOptional({ type: String, format: 'date-time', description: 'From this instant (inclusive)' })
  @IsOptional()
  from?: string;

  @ApiPropertyOptional({ type: String, format: 'date-time', description: 'Up to this instant (exclusive)' })
  @IsOptional()
  to?: string;

  @ApiPropertyOptional({ type: String, pattern: SEQ.source, description: 'nextCursor of the previous page' })
  @IsOptional()
  @Matches(SEQ, { message: 'cursor must be the nextCursor of a previous page' })
  cursor?: string;

  @LimitField({
    default: 100,
    max: MAX_PAGE,
    description: 'Entries per page (json); exports send everything',
  })
  limit?: number;

  @ApiPropertyOptional({
    type: String,
    enum: AUDIT_FORMATS,
    default: 'json',
    description: 'json: a page {items, nextCursor}; csv and jsonl: every matching entry, streamed',
  })
  @IsOptional()
  @IsIn(AUDIT_FORMATS)
  format?: AuditFormat;

  @MinPositionField()
  minPosition?: string;
}
