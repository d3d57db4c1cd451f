import { ApiProperty } from '@nestjs/swagger';
import { IsString, Length } from 'class-validator';
import { SignInNameDto } from '../sign-in/dto';

/** The org and exactly one of username and email (as for sign-in). */
export class PasswordResetRequestDto extends SignInNameDto {}

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
