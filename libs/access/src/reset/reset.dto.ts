import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsOptional, IsString, Length, MaxLength } from 'class-validator';
import { IdField } from '@purser/platform';

export class PasswordResetRequestDto {
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

export class PasswordResetCompleteDto {
  @ApiProperty({
    type: String,
    minLength: 1,
    maxLength: 512,
    description: 'The reset token from the mail (prr_...): the `token` of the link, or the token as written',
  })
  @IsString()
  @Length(1, 512)
  token: string;

  @ApiProperty({
    type: String,
    format: 'password',
    minLength: 1,
    maxLength: 256,
    description: 'The new password: at least 10 characters, and hard to guess (zxcvbn score 3 or more)',
  })
  @IsString()
  @Length(1, 256)
  newPassword: string;
}

/** The one answer to every reset request, whether or not the account exists. */
export const RESET_ACCEPTED = {
  accepted: true,
  message: 'If the account exists and is active, a reset link is on its way to its email address.',
} as const;
