import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsIn, IsOptional, IsString, Length, Matches } from 'class-validator';
import { MfaRequirement } from '../events';

export const TOTP_CODE_PATTERN = /^\s*\d{3}\s?\d{3}\s*$/;
const TOTP_CODE = TOTP_CODE_PATTERN;

function TotpCodeField(optional = false): PropertyDecorator {
  return (target: object, key: string | symbol) => {
    (optional ? ApiPropertyOptional : ApiProperty)({
      type: String,
      pattern: TOTP_CODE.source,
      example: '123456',
      description: 'The 6-digit code the authenticator app shows now (each works once)',
    })(target, key);
    if (optional) IsOptional()(target, key);
    IsString()(target, key);
    Matches(TOTP_CODE, { message: `${String(key)} must be the 6 digits of a code` })(target, key);
  };
}

export class TotpCodeDto {
  @TotpCodeField()
  code: string;
}

export class MfaPasswordDto {
  @ApiProperty({ type: String, format: 'password', minLength: 1, maxLength: 256, description: 'My password' })
  @IsString()
  @Length(1, 256)
  password: string;
}

function MfaTokenField(): PropertyDecorator {
  return (target: object, key: string | symbol) => {
    ApiProperty({
      type: String,
      minLength: 1,
      maxLength: 2048,
      description: 'The mfaToken the first step (POST /v1/auth/login) answered',
    })(target, key);
    IsString()(target, key);
    Length(1, 2048)(target, key);
  };
}

export class MfaSignInDto {
  @MfaTokenField()
  mfaToken: string;

  @TotpCodeField(true)
  code?: string;

  @ApiPropertyOptional({
    type: String,
    minLength: 1,
    maxLength: 64,
    example: 'abcd-efgh-jkmn',
    description: 'Instead of a code: one of the recovery codes (each works once)',
  })
  @IsOptional()
  @IsString()
  @Length(1, 64)
  recoveryCode?: string;
}

export class MfaTokenDto {
  @MfaTokenField()
  mfaToken: string;
}

export class MfaTokenCodeDto {
  @MfaTokenField()
  mfaToken: string;

  @TotpCodeField()
  code: string;
}

export const MFA_REQUIREMENTS: MfaRequirement[] = ['none', 'admins', 'everyone'];

export class MfaPolicyDto {
  @ApiProperty({
    enum: MFA_REQUIREMENTS,
    description:
      "Who must sign in with MFA: nobody, the org's owners and admins (and the instance administrator), everyone",
  })
  @IsIn(MFA_REQUIREMENTS)
  required: MfaRequirement;
}
