import { Body, Controller, HttpCode, Post, UseGuards } from '@nestjs/common';
import { CommandBus } from '@nestjs/cqrs';
import { ApiBody, ApiTags } from '@nestjs/swagger';
import { ThrottlerGuard } from '@nestjs/throttler';
import { CommandContext } from '@purser/core';
import { ApiSchemas, Ctx, Endpoint, RequestSource, Source } from '@purser/platform';
import { signInName } from '../sign-in/auth.controller';
import { CompletePasswordReset, RequestPasswordReset } from './reset';
import { PasswordResetCompleteDto, PasswordResetRequestDto, RESET_ACCEPTED } from './reset.dto';

const accepted = {
  type: 'object',
  required: ['accepted', 'message'],
  additionalProperties: false,
  properties: {
    accepted: { type: 'boolean', enum: [true] },
    message: { type: 'string' },
  },
};

/** The request body as the document states it: the org and exactly one of username and email. */
const requestBody = (() => {
  const name = {
    username: { type: 'string', maxLength: 64, description: 'The username' },
    email: { type: 'string', maxLength: 254, description: 'The email' },
  };
  const one = (key: 'username' | 'email') => ({
    type: 'object',
    required: ['orgId', key],
    additionalProperties: false,
    properties: { orgId: ApiSchemas.id, [key]: name[key] },
  });
  return { oneOf: [one('username'), one('email')] };
})();

/** Password reset by mail: the open door, rate-limited per source address. */
@ApiTags('auth')
@Controller()
@UseGuards(ThrottlerGuard)
export class ResetController {
  constructor(private readonly commands: CommandBus) {}

  @Post('v1/auth/password-reset')
  @HttpCode(202)
  @Endpoint({
    summary: 'Ask for a password reset link by mail',
    description:
      'Always answers 202 with the same body, whether or not the account exists (nothing tells which accounts ' +
      'exist). For an active user the mail holds a link that works once, for PURSER_RESET_TOKEN_TTL_S seconds ' +
      '(30 minutes by default). Without a mail server configured (PURSER_SMTP_URL) nothing is sent.',
    requires: 'public',
    responses: [
      { status: 202, description: 'Taken; a mail follows if the account exists', schema: accepted },
    ],
    errors: [429],
  })
  @ApiBody({ schema: requestBody })
  async request(
    @Ctx() ctx: CommandContext,
    @Body() body: PasswordResetRequestDto,
    @Source() origin: RequestSource,
  ): Promise<typeof RESET_ACCEPTED> {
    await this.commands.execute(
      new RequestPasswordReset(ctx, { orgId: body.orgId, name: signInName(body), origin }),
    );
    return RESET_ACCEPTED;
  }

  @Post('v1/auth/password-reset/complete')
  @HttpCode(204)
  @Endpoint({
    summary: 'Set a new password with the token from the reset mail',
    description:
      'The token works once and only until it expires; a newer request replaces it. Success ends every session ' +
      'of the user and lifts a lock. An invalid, used or expired token answers 401; a weak password 422.',
    requires: 'public',
    responses: [{ status: 204, description: 'The password is changed; every session ended' }],
    errors: [422, 429],
  })
  async complete(@Ctx() ctx: CommandContext, @Body() body: PasswordResetCompleteDto): Promise<void> {
    await this.commands.execute(
      new CompletePasswordReset(ctx, { token: body.token, newPassword: body.newPassword }),
    );
  }
}
