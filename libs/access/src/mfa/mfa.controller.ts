import { Body, Controller, Delete, Get, HttpCode, Param, Post, Put, UseGuards } from '@nestjs/common';
import { CommandBus } from '@nestjs/cqrs';
import { ApiBody, ApiTags } from '@nestjs/swagger';
import { ThrottlerGuard } from '@nestjs/throttler';
import { CommandContext, Principal, ValidationError } from '@purser/core';
import { Caller, Ctx, Endpoint, IdPipe, RequestSource, Source } from '@purser/platform';
import { AccessSchemas } from '../sign-in/api.schemas';
import {
  CompleteMfaSignIn,
  ConfirmTotp,
  ConfirmTotpAtSignIn,
  EnrolTotp,
  EnrolTotpAtSignIn,
  RenewRecoveryCodes,
  ResetUserMfa,
  SetOrgMfaPolicy,
  TurnOffMfa,
} from './mfa.commands';
import {
  MfaPasswordDto,
  MfaPolicyDto,
  MfaSignInDto,
  MfaTokenCodeDto,
  MfaTokenDto,
  TotpCodeDto,
} from './mfa.dto';
import { MfaPolicies } from './mfa-policy';
import { MfaSchemas } from './mfa.schemas';

const OrgId = () => Param('orgId', IdPipe);
const UserId = () => Param('userId', IdPipe);

const self = (caller: Principal) => ({ orgId: caller.orgId as string, userId: caller.actor.id });

/** My MFA: enrol an authenticator app, confirm it, renew recovery codes, turn it off. */
@ApiTags('me')
@Controller('v1/me/mfa')
export class MeMfaController {
  constructor(private readonly commands: CommandBus) {}

  @Post('totp')
  @HttpCode(200)
  @Endpoint({
    summary: 'Start enrolling an authenticator app (TOTP): the secret, shown this once',
    description:
      'Answers a fresh secret, its otpauth:// URI and a QR code of it; MFA is on once POST /v1/me/mfa/totp/confirm ' +
      'accepts a first code. Starting again replaces an enrolment not yet confirmed; with MFA on it is refused (409).',
    requires: 'self',
    ok: { description: 'The enrolment to scan', schema: MfaSchemas.enrolment },
    errors: [404, 409],
  })
  enrol(@Ctx() ctx: CommandContext, @Caller() caller: Principal) {
    return this.commands.execute(new EnrolTotp(ctx, self(caller)));
  }

  @Post('totp/confirm')
  @HttpCode(200)
  @Endpoint({
    summary: 'Confirm the enrolment with a first code: MFA is on, and ten recovery codes are shown this once',
    description: 'A wrong code is refused (422) and changes nothing; with no enrolment waiting, 409.',
    requires: 'self',
    ok: { description: 'MFA is on', schema: MfaSchemas.recoveryCodes },
    errors: [404, 409, 422],
  })
  confirm(@Ctx() ctx: CommandContext, @Caller() caller: Principal, @Body() body: TotpCodeDto) {
    return this.commands.execute(new ConfirmTotp(ctx, { ...self(caller), code: body.code }));
  }

  @Post('recovery-codes')
  @HttpCode(200)
  @Endpoint({
    summary: 'New recovery codes (the old ones stop working); needs a current code',
    requires: 'self',
    ok: { description: 'The new codes, shown this once', schema: MfaSchemas.recoveryCodes },
    errors: [404, 409, 422],
  })
  renew(@Ctx() ctx: CommandContext, @Caller() caller: Principal, @Body() body: TotpCodeDto) {
    return this.commands.execute(new RenewRecoveryCodes(ctx, { ...self(caller), code: body.code }));
  }

  @Delete()
  @HttpCode(200)
  @Endpoint({
    summary: 'Turn my MFA off (needs my password)',
    description: 'A wrong password is refused (422).',
    requires: 'self',
    ok: { description: 'Off', schema: MfaSchemas.disabled },
    errors: [404, 422],
  })
  turnOff(@Ctx() ctx: CommandContext, @Caller() caller: Principal, @Body() body: MfaPasswordDto) {
    return this.commands.execute(new TurnOffMfa(ctx, { ...self(caller), password: body.password }));
  }
}

/** The sign-in's second step (and the enrolment an org's policy asks for): public, rate-limited per address. */
@ApiTags('auth')
@Controller('v1/auth/mfa')
@UseGuards(ThrottlerGuard)
export class MfaSignInController {
  constructor(private readonly commands: CommandBus) {}

  @Post()
  @HttpCode(200)
  @Endpoint({
    summary: 'Complete a sign-in with a code from the authenticator app or a recovery code',
    description:
      'Give the mfaToken of POST /v1/auth/login and either code or recoveryCode. Each code and each recovery code ' +
      'works once; a wrong one counts as a failed sign-in (repeated failures lock the account).',
    requires: 'public',
    ok: { description: 'Signed in', schema: AccessSchemas.tokenPair },
    errors: [429],
  })
  @ApiBody({ schema: MfaSchemas.signInBody })
  complete(@Ctx() ctx: CommandContext, @Body() body: MfaSignInDto, @Source() origin: RequestSource) {
    if ((body.code === undefined) === (body.recoveryCode === undefined))
      throw new ValidationError('give either code or recoveryCode', [
        {
          field: body.code === undefined ? 'code' : 'recoveryCode',
          problem: 'exactly one of code and recoveryCode',
        },
      ]);
    return this.commands.execute(
      new CompleteMfaSignIn(ctx, {
        mfaToken: body.mfaToken,
        ...(body.code !== undefined ? { code: body.code } : { recoveryCode: body.recoveryCode }),
        origin,
      }),
    );
  }

  @Post('enrol')
  @HttpCode(200)
  @Endpoint({
    summary: 'Enrol an authenticator app during a sign-in the org requires MFA for (enrolmentRequired)',
    requires: 'public',
    ok: { description: 'The enrolment to scan', schema: MfaSchemas.enrolment },
    errors: [409, 429],
  })
  enrol(@Ctx() ctx: CommandContext, @Body() body: MfaTokenDto, @Source() origin: RequestSource) {
    return this.commands.execute(new EnrolTotpAtSignIn(ctx, { mfaToken: body.mfaToken, origin }));
  }

  @Post('enrol/confirm')
  @HttpCode(200)
  @Endpoint({
    summary: 'Confirm that enrolment with a first code: MFA is on, and the sign-in completes',
    description:
      'Answers the ten recovery codes (shown this once) and the tokens. A wrong code is refused (422).',
    requires: 'public',
    ok: { description: 'MFA is on, and signed in', schema: MfaSchemas.signedInWithCodes },
    errors: [409, 422, 429],
  })
  confirm(@Ctx() ctx: CommandContext, @Body() body: MfaTokenCodeDto, @Source() origin: RequestSource) {
    return this.commands.execute(
      new ConfirmTotpAtSignIn(ctx, { mfaToken: body.mfaToken, code: body.code, origin }),
    );
  }
}

/** Administrators: an org's MFA policy, and a user's MFA reset. */
@ApiTags('orgs')
@Controller('v1/orgs/:orgId')
export class OrgMfaController {
  constructor(
    private readonly commands: CommandBus,
    private readonly policies: MfaPolicies,
  ) {}

  @Get('mfa-policy')
  @Endpoint({
    summary: "The org's MFA policy: who must sign in with MFA",
    requires: 'org.read',
    ok: { description: 'The policy', schema: MfaSchemas.policy },
    errors: [404],
  })
  policy(@OrgId() orgId: string) {
    return this.policies.of(orgId);
  }

  @Put('mfa-policy')
  @HttpCode(200)
  @Endpoint({
    summary: "Set the org's MFA policy",
    description:
      "'admins': the org's owners and admins (and the instance administrator); 'everyone': every user. Whoever it " +
      'asks for MFA and has none enrols at their next sign-in before it completes.',
    requires: 'org.manage',
    ok: { description: 'The policy', schema: MfaSchemas.policy },
    errors: [404],
  })
  setPolicy(@Ctx() ctx: CommandContext, @OrgId() orgId: string, @Body() body: MfaPolicyDto) {
    return this.commands.execute(new SetOrgMfaPolicy(ctx, { orgId, required: body.required }));
  }

  @Delete('users/:userId/mfa')
  @HttpCode(200)
  @Endpoint({
    summary: "Reset a user's MFA (a lost device): MFA off, and the user's sessions end",
    requires: 'user.manage',
    ok: { description: 'Reset', schema: MfaSchemas.reset },
    errors: [404],
  })
  reset(@Ctx() ctx: CommandContext, @OrgId() orgId: string, @UserId() userId: string) {
    return this.commands.execute(new ResetUserMfa(ctx, { orgId, userId }));
  }
}
