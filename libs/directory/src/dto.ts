import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Transform, Type } from 'class-transformer';
import {
  ArrayMaxSize,
  IsArray,
  IsBoolean,
  IsEmail,
  IsIn,
  IsInt,
  IsISO8601,
  IsObject,
  IsOptional,
  IsString,
  Length,
  Matches,
  Max,
  MaxLength,
  Min,
  ValidateIf,
  ValidateNested,
  ValidationArguments,
  registerDecorator,
} from 'class-validator';

export const ID_REGEX = /^[A-Za-z0-9_-]{1,64}$/;
const ID_MESSAGE = '$property must be 1-64 characters of [A-Za-z0-9_-]';
const NOT_BLANK = /\S/;
const trim = ({ value }: { value: unknown }) => (typeof value === 'string' ? value.trim() : value);

const TIME_ZONES = new Set<string>([...Intl.supportedValuesOf('timeZone'), 'UTC', 'Etc/UTC']);
const CURRENCIES = new Set<string>(Intl.supportedValuesOf('currency'));

function IsTimeZone() {
  return (object: object, propertyName: string) =>
    registerDecorator({
      name: 'isTimeZone',
      target: object.constructor,
      propertyName,
      validator: {
        validate: (v: unknown) => typeof v === 'string' && TIME_ZONES.has(v),
        defaultMessage: (a?: ValidationArguments) =>
          `${a?.property} must be an IANA time zone such as Europe/Paris or UTC`,
      },
    });
}

function IsCurrency() {
  return (object: object, propertyName: string) =>
    registerDecorator({
      name: 'isCurrency',
      target: object.constructor,
      propertyName,
      validator: {
        validate: (v: unknown) => typeof v === 'string' && /^[A-Z]{3}$/.test(v) && CURRENCIES.has(v),
        defaultMessage: (a?: ValidationArguments) =>
          `${a?.property} must be an ISO 4217 currency code such as USD or EUR`,
      },
    });
}

export class ContactInfoDto {
  @ApiPropertyOptional({ example: 'billing@acme.test' })
  @IsOptional()
  @IsEmail()
  @MaxLength(254)
  email?: string;

  @ApiPropertyOptional({ example: '+33 1 23 45 67 89' })
  @IsOptional()
  @Matches(/^\+?[0-9 ().-]{3,32}$/, { message: 'phone must be 3-32 digits, spaces and ()+-.' })
  phone?: string;

  @ApiPropertyOptional({ example: 'Ada Lovelace' })
  @IsOptional()
  @IsString()
  @Transform(trim)
  @MaxLength(200)
  name?: string;
}

export class CreateOrgDto {
  @ApiProperty({ example: 'Acme Corp', maxLength: 200 })
  @IsString()
  @Transform(trim)
  @Length(1, 200)
  @Matches(NOT_BLANK, { message: 'name must not be blank' })
  name: string;

  @ApiPropertyOptional({ example: '1 Rue de la Paix, Paris', maxLength: 500 })
  @IsOptional()
  @IsString()
  @MaxLength(500)
  address?: string;

  @ApiPropertyOptional({ type: ContactInfoDto })
  @IsOptional()
  @IsObject()
  @ValidateNested()
  @Type(() => ContactInfoDto)
  contactInfo?: ContactInfoDto;

  @ApiPropertyOptional({
    example: 'EUR',
    default: 'USD',
    description: 'ISO 4217; reports and quotas are expressed in it',
  })
  @IsOptional()
  @IsCurrency()
  baseCurrency?: string;

  @ApiPropertyOptional({
    example: 'Europe/Paris',
    default: 'UTC',
    description: 'IANA zone; periods and quota resets follow it',
  })
  @IsOptional()
  @IsTimeZone()
  timeZone?: string;
}

export class UpdateOrgDto {
  @ApiPropertyOptional({ maxLength: 200 })
  @IsOptional()
  @IsString()
  @Transform(trim)
  @Length(1, 200)
  @Matches(NOT_BLANK, { message: 'name must not be blank' })
  name?: string;

  @ApiPropertyOptional({ nullable: true, maxLength: 500 })
  @IsOptional()
  @ValidateIf((o) => o.address !== null)
  @IsString()
  @MaxLength(500)
  address?: string | null;

  @ApiPropertyOptional({ type: ContactInfoDto })
  @IsOptional()
  @IsObject()
  @ValidateNested()
  @Type(() => ContactInfoDto)
  contactInfo?: ContactInfoDto;

  @ApiPropertyOptional()
  @IsOptional()
  @IsCurrency()
  baseCurrency?: string;

  @ApiPropertyOptional()
  @IsOptional()
  @IsTimeZone()
  timeZone?: string;
}

export class CreateTeamDto {
  @ApiProperty({ example: 'Research', maxLength: 200 })
  @IsString()
  @Transform(trim)
  @Length(1, 200)
  @Matches(NOT_BLANK, { message: 'name must not be blank' })
  name: string;

  @ApiPropertyOptional({
    nullable: true,
    description: 'Parent team in the same org; omitted or null for a top-level team',
  })
  @IsOptional()
  @ValidateIf((o) => o.parentTeamId !== null)
  @Matches(ID_REGEX, { message: ID_MESSAGE })
  parentTeamId?: string | null;
}

export class RenameTeamDto {
  @ApiProperty({ maxLength: 200 })
  @IsString()
  @Transform(trim)
  @Length(1, 200)
  @Matches(NOT_BLANK, { message: 'name must not be blank' })
  name: string;
}

export class MoveTeamDto {
  @ApiProperty({ nullable: true, description: 'New parent team, or null to make it top-level' })
  @ValidateIf((o) => o.parentTeamId !== null)
  @IsString()
  @Matches(ID_REGEX, { message: ID_MESSAGE })
  parentTeamId: string | null;
}

export class CreateUserDto {
  @ApiProperty({ example: 'ada', description: '3-64 characters of [A-Za-z0-9._-]; unique, case-insensitive' })
  @IsString()
  @Matches(/^[A-Za-z0-9._-]{3,64}$/, { message: 'username must be 3-64 characters of [A-Za-z0-9._-]' })
  username: string;

  @ApiProperty({ example: 'ada@acme.test', description: 'Unique, compared case-insensitively' })
  @IsString()
  @Transform(trim)
  @MaxLength(254)
  @IsEmail({}, { message: 'email must be an email address' })
  email: string;

  @ApiPropertyOptional({ example: 'Ada Lovelace', maxLength: 200 })
  @IsOptional()
  @IsString()
  @Transform(trim)
  @MaxLength(200)
  displayName?: string;

  @ApiPropertyOptional({ description: "The user's primary team (the seed's team_id)" })
  @IsOptional()
  @Matches(ID_REGEX, { message: ID_MESSAGE })
  primaryTeamId?: string;

  @ApiPropertyOptional({ type: [String], description: 'Other teams the user belongs to (at most 100)' })
  @IsOptional()
  @IsArray()
  @ArrayMaxSize(100)
  @Matches(ID_REGEX, { each: true, message: 'each of teamIds must be 1-64 characters of [A-Za-z0-9_-]' })
  teamIds?: string[];

  @ApiPropertyOptional()
  @IsOptional()
  @Matches(ID_REGEX, { message: ID_MESSAGE })
  roleId?: string;
}

export class UpdateUserDto {
  @ApiPropertyOptional()
  @IsOptional()
  @IsString()
  @Matches(/^[A-Za-z0-9._-]{3,64}$/, { message: 'username must be 3-64 characters of [A-Za-z0-9._-]' })
  username?: string;

  @ApiPropertyOptional()
  @IsOptional()
  @IsString()
  @Transform(trim)
  @MaxLength(254)
  @IsEmail({}, { message: 'email must be an email address' })
  email?: string;

  @ApiPropertyOptional({ nullable: true })
  @IsOptional()
  @ValidateIf((o) => o.displayName !== null)
  @IsString()
  @Transform(trim)
  @MaxLength(200)
  displayName?: string | null;

  @ApiPropertyOptional({ nullable: true })
  @IsOptional()
  @ValidateIf((o) => o.primaryTeamId !== null)
  @Matches(ID_REGEX, { message: ID_MESSAGE })
  primaryTeamId?: string | null;

  @ApiPropertyOptional({ nullable: true })
  @IsOptional()
  @ValidateIf((o) => o.roleId !== null)
  @Matches(ID_REGEX, { message: ID_MESSAGE })
  roleId?: string | null;
}

export class DeactivateUserDto {
  @ApiPropertyOptional({ maxLength: 500 })
  @IsOptional()
  @IsString()
  @MaxLength(500)
  reason?: string;
}

export class ReadQuery {
  @ApiPropertyOptional({
    description: 'Wait until the read models include this position (from a command response)',
  })
  @IsOptional()
  @Matches(/^\d{1,20}$/, { message: 'minPosition must be a non-negative integer' })
  minPosition?: string;

  @ApiPropertyOptional({
    description: 'ISO-8601 instant: answer with the state at that time, folded from the history',
  })
  @IsOptional()
  @IsISO8601({ strict: true }, { message: 'asOf must be an ISO-8601 date-time such as 2026-01-31T12:00:00Z' })
  asOf?: string;
}

export class PositionQuery {
  @ApiPropertyOptional({
    description: 'Wait until the read models include this position (from a command response)',
  })
  @IsOptional()
  @Matches(/^\d{1,20}$/, { message: 'minPosition must be a non-negative integer' })
  minPosition?: string;
}

export class PageQuery extends PositionQuery {
  @ApiPropertyOptional({ default: 50, minimum: 1, maximum: 500 })
  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(500)
  limit?: number;

  @ApiPropertyOptional({ description: 'nextCursor from the previous page' })
  @IsOptional()
  @IsString()
  @MaxLength(2000)
  cursor?: string;
}

export class TeamsQuery extends PositionQuery {
  @ApiPropertyOptional({ enum: ['flat', 'tree'], default: 'flat' })
  @IsOptional()
  @IsIn(['flat', 'tree'])
  view?: 'flat' | 'tree';
}

export class ListUsersQuery extends PageQuery {
  @ApiPropertyOptional({ description: 'Members of this team' })
  @IsOptional()
  @Matches(ID_REGEX, { message: ID_MESSAGE })
  teamId?: string;

  @ApiPropertyOptional({ default: true, description: 'With teamId: include members of all its sub-teams' })
  @IsOptional()
  @Transform(({ value }) => (value === 'true' ? true : value === 'false' ? false : value))
  @IsBoolean({ message: 'includeSubTeams must be true or false' })
  includeSubTeams?: boolean;

  @ApiPropertyOptional({ enum: ['active', 'inactive'] })
  @IsOptional()
  @IsIn(['active', 'inactive'])
  status?: 'active' | 'inactive';

  @ApiPropertyOptional({
    description: 'Prefix search on username, email and name words, case-insensitive',
    maxLength: 100,
  })
  @IsOptional()
  @IsString()
  @Length(1, 100)
  q?: string;
}
