import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import {
  ArrayMaxSize,
  ArrayMinSize,
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

export const MAX_ACL_PERMISSIONS = 50;
const ACL_RESOURCE_TYPES = ['quota', 'team', 'user', 'apiKey', 'org'] as const;
const ACL_PRINCIPAL_TYPES = ['user', 'team', 'role', 'apiKey'] as const;

export class AclResourceDto {
  @ApiProperty({ type: String, enum: ACL_RESOURCE_TYPES })
  @IsIn(ACL_RESOURCE_TYPES, { message: 'resource.type must be quota, team, user, apiKey or org' })
  type: (typeof ACL_RESOURCE_TYPES)[number];

  @IdField()
  id: string;
}

export class AclPrincipalDto {
  @ApiProperty({ type: String, enum: ACL_PRINCIPAL_TYPES })
  @IsIn(ACL_PRINCIPAL_TYPES, { message: 'principal.type must be user, team, role or apiKey' })
  type: (typeof ACL_PRINCIPAL_TYPES)[number];

  @IdField()
  id: string;
}

export class AclEntryDto {
  @ApiProperty({ type: AclResourceDto })
  @IsObject()
  @ValidateNested()
  @Type(() => AclResourceDto)
  resource: AclResourceDto;

  @ApiProperty({ type: AclPrincipalDto })
  @IsObject()
  @ValidateNested()
  @Type(() => AclPrincipalDto)
  principal: AclPrincipalDto;

  @ApiProperty({
    type: 'array',
    items: { type: 'string', pattern: PERMISSION_NAME.source },
    minItems: 1,
    maxItems: MAX_ACL_PERMISSIONS,
  })
  @IsArray()
  @ArrayMinSize(1)
  @ArrayMaxSize(MAX_ACL_PERMISSIONS)
  @IsString({ each: true })
  @Matches(PERMISSION_NAME, { each: true, message: 'each permission must look like quota.manage' })
  permissions: string[];
}

export class AsOfQuery {
  @ApiPropertyOptional({
    type: String,
    format: 'date-time',
    example: '2026-11-25T14:00:00Z',
    description: 'Answer as things stood at this instant (from the history of the streams)',
  })
  @IsOptional()
  @IsString()
  asOf?: string;
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

  @ApiPropertyOptional({
    type: AclResourceDto,
    description: 'The resource asked about (its ACL entries count)',
  })
  @IsOptional()
  @IsObject()
  @ValidateNested()
  @Type(() => AclResourceDto)
  resource?: AclResourceDto;

  @ApiPropertyOptional({
    type: String,
    format: 'date-time',
    description: 'Answer as things stood at this instant (roles, memberships and the team tree then)',
  })
  @IsOptional()
  @IsString()
  asOf?: string;
}
