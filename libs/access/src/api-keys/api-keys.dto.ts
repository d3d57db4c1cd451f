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
  Length,
  Matches,
  Max,
  MaxLength,
  Min,
  ValidateNested,
} from 'class-validator';
import { CursorField, IdField, LimitField } from '@purser/platform';

/** A scope names a permission (e.g. usage.record, quota.check) or a family of them (usage.*). */
export const SCOPE_PATTERN = /^[a-z][a-z0-9-]{0,31}(\.([a-z][a-z0-9-]{0,31}|\*))*$/;
export const MAX_SCOPES = 50;
/** A rotation's overlap: at most a week. */
export const MAX_OVERLAP_SECONDS = 604_800;
export const DEFAULT_OVERLAP_SECONDS = 3_600;

export class ApiKeyOwnerDto {
  @ApiProperty({ type: String, enum: ['user', 'team'] })
  @IsIn(['user', 'team'], { message: 'owner.type must be user or team' })
  type: 'user' | 'team';

  @IdField({ description: 'The user or team of the org that owns the key' })
  id: string;
}

export class CreateApiKeyDto {
  @ApiProperty({ type: String, minLength: 1, maxLength: 100, example: 'billing agent' })
  @IsString()
  @Length(1, 100)
  name: string;

  @ApiPropertyOptional({
    type: ApiKeyOwnerDto,
    description:
      'Whose key it is (a live user or team of the org). Default: the signed-in user; required for any other caller',
  })
  @IsOptional()
  @IsObject()
  @ValidateNested()
  @Type(() => ApiKeyOwnerDto)
  owner?: ApiKeyOwnerDto;

  @ApiPropertyOptional({
    type: 'array',
    items: { type: 'string', pattern: SCOPE_PATTERN.source },
    maxItems: MAX_SCOPES,
    description: "Permissions the key is narrowed to (none: the owner's)",
    example: ['usage.record', 'quota.check'],
  })
  @IsOptional()
  @IsArray()
  @ArrayMaxSize(MAX_SCOPES)
  @IsString({ each: true })
  @Matches(SCOPE_PATTERN, { each: true, message: 'each scope must look like usage.record or usage.*' })
  scopes?: string[];

  @ApiPropertyOptional({
    type: String,
    format: 'date-time',
    nullable: true,
    description: 'When the key stops working (in the future); none: never',
  })
  @IsOptional()
  @IsString()
  @MaxLength(40)
  expiresAt?: string | null;
}

export class RotateApiKeyDto {
  @ApiPropertyOptional({
    type: 'integer',
    minimum: 0,
    maximum: MAX_OVERLAP_SECONDS,
    default: DEFAULT_OVERLAP_SECONDS,
    description: 'How long the secret in use keeps working next to the new one (seconds)',
  })
  @IsOptional()
  @IsInt()
  @Min(0)
  @Max(MAX_OVERLAP_SECONDS)
  overlapSeconds?: number;
}

export class ApiKeysQuery {
  @LimitField({ default: 50, max: 500 })
  limit?: number;

  @CursorField()
  cursor?: string;
}
