import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import {
  ArrayMaxSize,
  IsArray,
  IsIn,
  IsObject,
  IsOptional,
  IsString,
  Length,
  Matches,
  ValidateNested,
} from 'class-validator';
import { IdField } from '@purser/platform';
import { CUSTOM_PERMISSION_PATTERN } from './catalogue';

export const MAX_ROLE_PERMISSIONS = 100;
const PERMISSION_NAME = /^[a-z*][a-z0-9-]{0,31}(\.([a-z][a-z0-9-]{0,31}|\*)){0,4}$/;

export class DefinePermissionDto {
  @ApiProperty({ type: String, pattern: CUSTOM_PERMISSION_PATTERN.source, example: 'acme.tool.run' })
  @IsString()
  @Matches(CUSTOM_PERMISSION_PATTERN, { message: 'name must be dotted lower-case words, e.g. acme.tool.run' })
  name: string;

  @ApiProperty({ type: String, minLength: 1, maxLength: 200 })
  @IsString()
  @Length(1, 200)
  description: string;
}

export class CreateRoleDto {
  @ApiProperty({ type: String, minLength: 1, maxLength: 100, example: 'billing operator' })
  @IsString()
  @Length(1, 100)
  name: string;

  @ApiPropertyOptional({ type: String, maxLength: 200 })
  @IsOptional()
  @IsString()
  @Length(0, 200)
  description?: string;

  @ApiProperty({
    type: 'array',
    items: { type: 'string', pattern: PERMISSION_NAME.source },
    maxItems: MAX_ROLE_PERMISSIONS,
  })
  @IsArray()
  @ArrayMaxSize(MAX_ROLE_PERMISSIONS)
  @IsString({ each: true })
  @Matches(PERMISSION_NAME, { each: true, message: 'each permission must look like usage.record' })
  permissions: string[];
}

export class UpdateRoleDto {
  @ApiPropertyOptional({ type: String, minLength: 1, maxLength: 100 })
  @IsOptional()
  @IsString()
  @Length(1, 100)
  name?: string;

  @ApiPropertyOptional({ type: String, maxLength: 200 })
  @IsOptional()
  @IsString()
  @Length(0, 200)
  description?: string;
}

export class RolePrincipalDto {
  @ApiProperty({ type: String, enum: ['user', 'team', 'apiKey'] })
  @IsIn(['user', 'team', 'apiKey'], { message: 'principal.type must be user, team or apiKey' })
  type: 'user' | 'team' | 'apiKey';

  @IdField()
  id: string;
}

export class RoleScopeDto {
  @ApiProperty({ type: String, enum: ['org', 'team'] })
  @IsIn(['org', 'team'], { message: 'scope.type must be org or team' })
  type: 'org' | 'team';

  @IdField({ optional: true, description: 'The team (scope type team): it and every team below it' })
  teamId?: string;
}

export class AssignmentDto {
  @ApiProperty({ type: RolePrincipalDto })
  @IsObject()
  @ValidateNested()
  @Type(() => RolePrincipalDto)
  principal: RolePrincipalDto;

  @IdField()
  roleId: string;

  @ApiProperty({ type: RoleScopeDto })
  @IsObject()
  @ValidateNested()
  @Type(() => RoleScopeDto)
  scope: RoleScopeDto;
}

export class PermissionCheckDto {
  @ApiProperty({ type: RolePrincipalDto })
  @IsObject()
  @ValidateNested()
  @Type(() => RolePrincipalDto)
  principal: RolePrincipalDto;

  @ApiProperty({ type: String, pattern: PERMISSION_NAME.source, example: 'quota.manage' })
  @IsString()
  @Matches(PERMISSION_NAME, { message: 'permission must look like quota.manage' })
  permission: string;

  @IdField()
  orgId: string;

  @IdField({ optional: true })
  teamId?: string;
}
