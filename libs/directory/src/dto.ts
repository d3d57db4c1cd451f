import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Transform, Type } from 'class-transformer';
import {
  ArrayMaxSize,
  IsArray,
  IsBoolean,
  IsEmail,
  IsIn,
  IsObject,
  IsOptional,
  IsString,
  Length,
  Matches,
  MaxLength,
  ValidateIf,
  ValidateNested,
  ValidationArguments,
  registerDecorator,
} from 'class-validator';
import {
  AsOfField,
  CurrencyField,
  CursorField,
  IdField,
  LimitField,
  MinPositionField,
  MinPositionQuery,
} from '@purser/platform';

const USERNAME = /^[A-Za-z0-9._-]{3,64}$/;
const PHONE = /^\+?[0-9 ().-]{3,32}$/;
/** Names: trimmed, 1-200 characters, not blank. */
const NAME = {
  type: String,
  minLength: 1,
  maxLength: 200,
  pattern: '\\S',
  description: 'Trimmed; not blank',
};
const NOT_BLANK = /\S/;
const trim = ({ value }: { value: unknown }) => (typeof value === 'string' ? value.trim() : value);

const TIME_ZONES = new Set<string>([...Intl.supportedValuesOf('timeZone'), 'UTC', 'Etc/UTC']);

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

export class ContactInfoDto {
  @ApiPropertyOptional({ type: String, format: 'email', maxLength: 254, example: 'billing@acme.test' })
  @IsOptional()
  @IsEmail()
  @MaxLength(254)
  email?: string;

  @ApiPropertyOptional({ type: String, pattern: PHONE.source, example: '+33 1 23 45 67 89' })
  @IsOptional()
  @Matches(PHONE, { message: 'phone must be 3-32 digits, spaces and ()+-.' })
  phone?: string;

  @ApiPropertyOptional({ type: String, maxLength: 200, example: 'Ada Lovelace' })
  @IsOptional()
  @IsString()
  @Transform(trim)
  @MaxLength(200)
  name?: string;
}

export class CreateOrgDto {
  @ApiProperty({ ...NAME, example: 'Acme Corp' })
  @IsString()
  @Transform(trim)
  @Length(1, 200)
  @Matches(NOT_BLANK, { message: 'name must not be blank' })
  name: string;

  @ApiPropertyOptional({ type: String, example: '1 Rue de la Paix, Paris', maxLength: 500 })
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

  @CurrencyField({
    optional: true,
    example: 'EUR',
    default: 'USD',
    description: 'ISO 4217; reports and quotas are expressed in it',
    message: '$property must be an ISO 4217 currency code such as USD or EUR',
  })
  baseCurrency?: string;

  @ApiPropertyOptional({
    type: String,
    enum: [...TIME_ZONES],
    example: 'Europe/Paris',
    default: 'UTC',
    description: 'IANA zone; periods and quota resets follow it',
  })
  @IsOptional()
  @IsTimeZone()
  timeZone?: string;
}

export class UpdateOrgDto {
  @ApiPropertyOptional(NAME)
  @IsOptional()
  @IsString()
  @Transform(trim)
  @Length(1, 200)
  @Matches(NOT_BLANK, { message: 'name must not be blank' })
  name?: string;

  @ApiPropertyOptional({ type: String, nullable: true, maxLength: 500, description: 'null clears it' })
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

  @CurrencyField({
    optional: true,
    example: 'EUR',
    message: '$property must be an ISO 4217 currency code such as USD or EUR',
  })
  baseCurrency?: string;

  @ApiPropertyOptional({
    type: String,
    enum: [...TIME_ZONES],
    example: 'Europe/Paris',
    description: 'IANA zone',
  })
  @IsOptional()
  @IsTimeZone()
  timeZone?: string;
}

export class CreateTeamDto {
  @ApiProperty({ ...NAME, example: 'Research' })
  @IsString()
  @Transform(trim)
  @Length(1, 200)
  @Matches(NOT_BLANK, { message: 'name must not be blank' })
  name: string;

  @IdField({
    optional: true,
    nullable: true,
    description: 'Parent team in the same org; omitted or null for a top-level team',
  })
  parentTeamId?: string | null;
}

export class RenameTeamDto {
  @ApiProperty(NAME)
  @IsString()
  @Transform(trim)
  @Length(1, 200)
  @Matches(NOT_BLANK, { message: 'name must not be blank' })
  name: string;
}

export class MoveTeamDto {
  @IsString()
  @IdField({ nullable: true, description: 'New parent team, or null to make it top-level' })
  parentTeamId: string | null;
}

export class CreateUserDto {
  @ApiProperty({
    type: String,
    pattern: USERNAME.source,
    example: 'ada',
    description: '3-64 characters of [A-Za-z0-9._-]; unique, case-insensitive',
  })
  @IsString()
  @Matches(USERNAME, { message: 'username must be 3-64 characters of [A-Za-z0-9._-]' })
  username: string;

  @ApiProperty({
    type: String,
    format: 'email',
    maxLength: 254,
    example: 'ada@acme.test',
    description: 'Unique, compared case-insensitively',
  })
  @IsString()
  @Transform(trim)
  @MaxLength(254)
  @IsEmail({}, { message: 'email must be an email address' })
  email: string;

  @ApiPropertyOptional({ type: String, example: 'Ada Lovelace', maxLength: 200 })
  @IsOptional()
  @IsString()
  @Transform(trim)
  @MaxLength(200)
  displayName?: string;

  @IdField({ optional: true, description: "The user's primary team (the seed's team_id)" })
  primaryTeamId?: string;

  @IsArray()
  @ArrayMaxSize(100)
  @IdField({
    optional: true,
    each: true,
    maxItems: 100,
    description: 'Other teams the user belongs to (at most 100)',
    message: 'each of teamIds must be 1-64 characters of [A-Za-z0-9_-]',
  })
  teamIds?: string[];

  @IdField({ optional: true })
  roleId?: string;
}

export class UpdateUserDto {
  @ApiPropertyOptional({ type: String, pattern: USERNAME.source })
  @IsOptional()
  @IsString()
  @Matches(USERNAME, { message: 'username must be 3-64 characters of [A-Za-z0-9._-]' })
  username?: string;

  @ApiPropertyOptional({ type: String, format: 'email', maxLength: 254 })
  @IsOptional()
  @IsString()
  @Transform(trim)
  @MaxLength(254)
  @IsEmail({}, { message: 'email must be an email address' })
  email?: string;

  @ApiPropertyOptional({ type: String, nullable: true, maxLength: 200 })
  @IsOptional()
  @ValidateIf((o) => o.displayName !== null)
  @IsString()
  @Transform(trim)
  @MaxLength(200)
  displayName?: string | null;

  @IdField({ optional: true, nullable: true })
  primaryTeamId?: string | null;

  @IdField({ optional: true, nullable: true })
  roleId?: string | null;
}

export class DeactivateUserDto {
  @ApiPropertyOptional({ type: String, maxLength: 500 })
  @IsOptional()
  @IsString()
  @MaxLength(500)
  reason?: string;
}

export class ReadQuery {
  @MinPositionField()
  minPosition?: string;

  @AsOfField()
  asOf?: string;
}

export class PositionQuery extends MinPositionQuery {}

export class PageQuery extends PositionQuery {
  @LimitField({ default: 50, max: 500 })
  limit?: number;

  @CursorField()
  cursor?: string;
}

export class TeamsQuery extends PositionQuery {
  @ApiPropertyOptional({ type: String, enum: ['flat', 'tree'], default: 'flat' })
  @IsOptional()
  @IsIn(['flat', 'tree'])
  view?: 'flat' | 'tree';
}

export class ListUsersQuery extends PageQuery {
  @IdField({ optional: true, description: 'Members of this team' })
  teamId?: string;

  @ApiPropertyOptional({
    type: Boolean,
    default: true,
    description: 'With teamId: include members of all its sub-teams',
  })
  @IsOptional()
  @Transform(({ value }) => (value === 'true' ? true : value === 'false' ? false : value))
  @IsBoolean({ message: 'includeSubTeams must be true or false' })
  includeSubTeams?: boolean;

  @ApiPropertyOptional({ type: String, enum: ['active', 'inactive'] })
  @IsOptional()
  @IsIn(['active', 'inactive'])
  status?: 'active' | 'inactive';

  @ApiPropertyOptional({
    type: String,
    description: 'Prefix search on username, email and name words, case-insensitive',
    minLength: 1,
    maxLength: 100,
  })
  @IsOptional()
  @IsString()
  @Length(1, 100)
  q?: string;
}
