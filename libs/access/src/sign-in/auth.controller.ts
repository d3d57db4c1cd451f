import { Body, Controller, Get, HttpCode, Post, UseGuards } from '@nestjs/common';
import { CommandBus } from '@nestjs/cqrs';
import { ApiBody, ApiTags } from '@nestjs/swagger';
import { ThrottlerGuard } from '@nestjs/throttler';
import { CommandContext, Principal, ValidationError } from '@purser/core';
import { Caller, Ctx, Endpoint, RequestSource, Source } from '@purser/platform';
import { AccessSchemas } from './api.schemas';
import { EndSession, RefreshSession, SetUp, SignIn, SignInName } from './commands';
import { LoginDto, RefreshDto, SetupDto } from './dto';
import { KeyMaterial } from '../key-material';
import { SignInResult } from './sign-in.handlers';
import { SetupResult } from '../setup/setup';
import { TokenPair } from '../sessions/sessions';

export function signInName(body: { username?: string; email?: string }): SignInName {
  if ((body.username === undefined) === (body.email === undefined)) {
    throw new ValidationError('give either username or email', [
      {
        field: body.username === undefined ? 'username' : 'email',
        problem: 'exactly one of username and email',
      },
    ]);
  }
  return body.username !== undefined ? { username: body.username } : { email: body.email as string };
}

/** Setup, sign-in, refresh and sign-out: the open door, rate-limited per source address. */
@ApiTags('auth')
@Controller()
@UseGuards(ThrottlerGuard)
export class AuthController {
  constructor(
    private readonly commands: CommandBus,
    private readonly keys: KeyMaterial,
  ) {}

  @Post('v1/setup')
  @Endpoint({
    summary: 'Set the instance up, once: the first org and its owner (the instance administrator)',
    description:
      'The token is the one-time setup token the server wrote to <data dir>/setup-token and to its log on first start. ' +
      'A second call is refused (409).',
    requires: 'public',
    created: { description: 'The org, its owner, and the owner signed in', schema: AccessSchemas.setup },
    errors: [401, 409, 422, 429],
  })
  setup(
    @Ctx() ctx: CommandContext,
    @Body() body: SetupDto,
    @Source() origin: RequestSource,
  ): Promise<SetupResult> {
    return this.commands.execute(
      new SetUp(ctx, {
        token: body.token,
        org: { ...body.org },
        owner: { username: body.owner.username, email: body.owner.email, password: body.owner.password },
        origin,
      }),
    );
  }

  @Post('v1/auth/login')
  @HttpCode(200)
  @ApiBody({ schema: AccessSchemas.login })
  @Endpoint({
    summary: 'Sign in with a password',
    description:
      'Answers the tokens, or, when the account has MFA, a second step (mfaRequired, mfaToken) to complete at ' +
      'POST /v1/auth/mfa. Every failure answers the same 401, whatever was wrong; repeated failures slow the answers ' +
      'down and then lock the account for a while.',
    requires: 'public',
    ok: { description: 'Signed in (or the MFA step)', schema: AccessSchemas.signIn },
    errors: [429],
  })
  login(
    @Ctx() ctx: CommandContext,
    @Body() body: LoginDto,
    @Source() origin: RequestSource,
  ): Promise<SignInResult> {
    return this.commands.execute(
      new SignIn(ctx, { orgId: body.orgId, name: signInName(body), password: body.password, origin }),
    );
  }

  @Post('v1/auth/refresh')
  @HttpCode(200)
  @Endpoint({
    summary: 'Exchange a refresh token for new tokens (the refresh token rotates: each works once)',
    description: 'Presenting a refresh token a second time ends its whole session (it may have been stolen).',
    requires: 'public',
    ok: { description: 'New tokens', schema: AccessSchemas.tokenPair },
    errors: [429],
  })
  refresh(@Ctx() ctx: CommandContext, @Body() body: RefreshDto): Promise<TokenPair> {
    return this.commands.execute(new RefreshSession(ctx, { refreshToken: body.refreshToken }));
  }

  @Post('v1/auth/logout')
  @HttpCode(204)
  @Endpoint({
    summary: 'Sign out: ends the session of the access token',
    requires: 'self',
    responses: [{ status: 204, description: 'Signed out' }],
  })
  async logout(@Ctx() ctx: CommandContext, @Caller() caller: Principal): Promise<void> {
    await this.commands.execute(
      new EndSession(ctx, {
        orgId: caller.orgId as string,
        sessionId: caller.sessionId as string,
        userId: caller.actor.id,
        reason: 'logout',
      }),
    );
  }

  @Get('.well-known/jwks.json')
  @Endpoint({
    summary: 'The public keys that verify access tokens (JWKS, RFC 7517)',
    requires: 'public',
    ok: { description: 'The key set', schema: AccessSchemas.jwks },
  })
  jwks() {
    return this.keys.jwks();
  }
}
