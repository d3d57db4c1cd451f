import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import {
  IsEmail,
  IsObject,
  IsOptional,
  IsString,
  Length,
  Matches,
  MaxLength,
  ValidateNested,
} from 'class-validator';
import { CreateOrgDto } from '@purser/directory';
import { IdField } from '@purser/platform';

const USERNAME = /^[A-Za-z0-9._-]{3,64}$/;

/** A password as typed: any characters; its strength is judged by the server (zxcvbn-ts), never echoed. */
function PasswordField(description: string): PropertyDecorator {
  return (target: object, key: string | symbol) => {
    ApiProperty({ type: String, format: 'password', minLength: 1, maxLength: 256, description })(target, key);
    IsString()(target, key);
    Length(1, 256)(target, key);
  };
}

export class SetupOwnerDto {
  @ApiProperty({ type: String, pattern: USERNAME.source, example: 'ada' })
  @IsString()
  @Matches(USERNAME, { message: 'owner.username must be 3-64 characters of [A-Za-z0-9._-]' })
  username: string;

  @ApiProperty({ type: String, format: 'email', maxLength: 254, example: 'ada@acme.test' })
  @IsString()
  @MaxLength(254)
  @IsEmail({}, { message: 'owner.email must be an email address' })
  email: string;

  @PasswordField('At least 10 characters, and hard to guess (zxcvbn score 3 or more)')
  password: string;
}

export class SetupDto {
  @ApiProperty({
    type: String,
    minLength: 1,
    maxLength: 200,
    description: 'The one-time token from <data dir>/setup-token (or the log)',
  })
  @IsString()
  @Length(1, 200)
  token: string;

  @ApiProperty({ type: CreateOrgDto })
  @IsObject()
  @ValidateNested()
  @Type(() => CreateOrgDto)
  org: CreateOrgDto;

  @ApiProperty({ type: SetupOwnerDto })
  @IsObject()
  @ValidateNested()
  @Type(() => SetupOwnerDto)
  owner: SetupOwnerDto;
}

/** Who signs in (or asks for a reset): the org, and exactly one of username and email. */
export class SignInNameDto {
  @IdField({ example: '0190f1c2-7e4b-7c1a-9d2e-3f4a5b6c7d8e' })
  orgId: string;

  @ApiPropertyOptional({
    type: String,
    maxLength: 64,
    description: 'The username, or give the email instead',
  })
  @IsOptional()
  @IsString()
  @MaxLength(64)
  username?: string;

  @ApiPropertyOptional({
    type: String,
    maxLength: 254,
    description: 'The email, or give the username instead',
  })
  @IsOptional()
  @IsString()
  @MaxLength(254)
  email?: string;
}

export class LoginDto extends SignInNameDto {
  @PasswordField('The password')
  password: string;
}

export class RefreshDto {
  @ApiProperty({
    type: String,
    minLength: 1,
    maxLength: 512,
    description: 'The refresh token of the last sign-in or refresh',
  })
  @IsString()
  @Length(1, 512)
  refreshToken: string;
}

export class ChangePasswordDto {
  @PasswordField('The password in use now')
  currentPassword: string;

  @PasswordField('The new password: at least 10 characters, and hard to guess (zxcvbn score 3 or more)')
  newPassword: string;
}

export class SetPasswordDto {
  @PasswordField('The new password: at least 10 characters, and hard to guess (zxcvbn score 3 or more)')
  password: string;
}

export class UpdateMeDto {
  @ApiPropertyOptional({ type: String, maxLength: 200, nullable: true, example: 'Ada Lovelace' })
  @IsOptional()
  @IsString()
  @MaxLength(200)
  displayName?: string | null;

  @ApiPropertyOptional({ type: String, format: 'email', maxLength: 254 })
  @IsOptional()
  @IsString()
  @MaxLength(254)
  @IsEmail({}, { message: 'email must be an email address' })
  email?: string;
}
