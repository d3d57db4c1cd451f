import {
  Body,
  Controller,
  Delete,
  Get,
  Headers,
  HttpCode,
  Param,
  Patch,
  Post,
  Query,
  Res,
} from '@nestjs/common';
import { ApiBody, ApiTags } from '@nestjs/swagger';
import { CommandContext } from '@purser/core';
import { Ctx, Endpoint, IdPipe, errorBody, parseIfMatchVersion } from '@purser/platform';
import { QuotasSchemas } from './api.schemas';
import {
  AlertsQuery,
  ChangeQuotaDto,
  DefineQuotaDto,
  PositionOnlyQuery,
  QuotaCheckDto,
  QuotaListQuery,
  RefusalsQuery,
} from './dto';
import { CommandBus } from '@nestjs/cqrs';
import { CheckInput, CheckQuota, CheckResult } from './check';
import { ChangeQuota, DefineQuota, RemoveQuota } from './definitions';
import { ReleaseReservation } from './reservations';
import { QuotaViews } from './views';
import { CheckInputPipe } from './check-input.pipe';
import { QUOTA_DECISIONS_PROJECTION, QUOTA_USAGE_PROJECTION, QuotaQueries } from './queries';

@ApiTags('quotas')
@Controller('v1/orgs/:orgId')
export class QuotasController {
  constructor(
    private readonly commands: CommandBus,
    private readonly views: QuotaViews,
    private readonly queries: QuotaQueries,
  ) {}

  @Post('quotas')
  @Endpoint({
    summary:
      'Define a quota for the org, a team (counts its sub-teams) or a user; overall, per item type or per item',
    requires: 'quota.manage',
    created: { description: 'Defined', schema: QuotasSchemas.commandResult },
    errors: [404, 409, 422],
  })
  define(@Ctx() ctx: CommandContext, @Param('orgId', IdPipe) orgId: string, @Body() body: DefineQuotaDto) {
    return this.commands.execute(new DefineQuota(ctx, orgId, body));
  }

  @Get('quotas')
  @Endpoint({
    summary: "The org's quotas with used, reserved and remaining for the period in force",
    requires: 'quota.read',
    reads: [QUOTA_USAGE_PROJECTION],
    ok: { description: 'With their figures', schema: QuotasSchemas.list },
    errors: [404],
  })
  async list(@Param('orgId', IdPipe) orgId: string, @Query() q: QuotaListQuery) {
    return this.views.list(orgId, q);
  }

  @Get('quotas/:quotaId')
  @Endpoint({
    summary: 'One quota with its current figures',
    requires: 'quota.read',
    reads: [QUOTA_USAGE_PROJECTION],
    ok: { description: 'With its figures', schema: QuotasSchemas.quota },
    errors: [404],
  })
  async get(
    @Param('orgId', IdPipe) orgId: string,
    @Param('quotaId', IdPipe) quotaId: string,
    @Query() _q: PositionOnlyQuery,
  ) {
    return this.views.get(orgId, quotaId);
  }

  @Patch('quotas/:quotaId')
  @Endpoint({
    summary: 'Change limit, period, enforcement or thresholds',
    requires: 'quota.manage',
    ok: { description: 'Changed', schema: QuotasSchemas.commandResult },
    errors: [404, 409, 422],
    ifMatch: true,
  })
  change(
    @Ctx() ctx: CommandContext,
    @Param('orgId', IdPipe) orgId: string,
    @Param('quotaId', IdPipe) quotaId: string,
    @Body() body: ChangeQuotaDto,
    @Headers('if-match') ifMatch?: string,
  ) {
    return this.commands.execute(
      new ChangeQuota(ctx, orgId, quotaId, { ...body }, parseIfMatchVersion(ifMatch)),
    );
  }

  @Delete('quotas/:quotaId')
  @Endpoint({
    summary: 'Remove a quota (its history is kept)',
    requires: 'quota.manage',
    ok: { description: 'Removed', schema: QuotasSchemas.commandResult },
    errors: [404, 409, 422],
    ifMatch: true,
  })
  remove(
    @Ctx() ctx: CommandContext,
    @Param('orgId', IdPipe) orgId: string,
    @Param('quotaId', IdPipe) quotaId: string,
    @Headers('if-match') ifMatch?: string,
  ) {
    return this.commands.execute(new RemoveQuota(ctx, orgId, quotaId, parseIfMatchVersion(ifMatch)));
  }

  @Get('users/:userId/quotas')
  @Endpoint({
    summary: "Every quota that applies to a user (theirs, their teams' and ancestors', the org's)",
    requires: 'quota.read',
    reads: [QUOTA_USAGE_PROJECTION],
    ok: { description: 'With why each applies', schema: QuotasSchemas.userQuotas },
    errors: [404],
  })
  async forUser(
    @Param('orgId', IdPipe) orgId: string,
    @Param('userId', IdPipe) userId: string,
    @Query() _q: PositionOnlyQuery,
  ) {
    return this.views.forUser(orgId, userId);
  }

  @Post('quota-checks')
  @Endpoint({
    summary:
      'Check and reserve before spending: 200 allowed with a reservation, 429 refused naming the quota',
    description:
      'Send the reservationId with the usage to settle it; unsettled reservations expire (PURSER_RESERVATION_TTL_MS).',
    requires: 'quota.check',
    ok: { description: 'Allowed, with a reservation', schema: QuotasSchemas.check },
    responses: [
      {
        status: 429,
        description: 'Refused by a quota (the one error shape with the check result)',
        schema: QuotasSchemas.refused,
      },
    ],
    errors: [404, 422],
  })
  @HttpCode(200)
  @ApiBody({ type: QuotaCheckDto })
  async check(
    @Ctx() ctx: CommandContext,
    @Param('orgId', IdPipe) orgId: string,
    // Typed `unknown` so that the global ValidationPipe leaves it to CheckInputPipe (same rules, same 400).
    @Body(CheckInputPipe) body: unknown,
    @Res({ passthrough: true }) reply: { status(code: number): unknown },
  ) {
    // A refusal is the check's answer (a decision, not an exception); this is where it becomes a 429.
    const res: CheckResult = await this.commands.execute(new CheckQuota(ctx, orgId, body as CheckInput));
    if (res.allowed) return res;
    reply.status(429);
    return {
      ...errorBody(429, res.refusedBy!.message, [
        { field: 'estimate', problem: 'over quota', quotaId: res.refusedBy!.quotaId },
      ]),
      ...res,
    };
  }

  @Delete('quota-checks/:reservationId')
  @Endpoint({
    summary: 'Release a reservation the caller will not use',
    requires: 'quota.check',
    reads: [QUOTA_DECISIONS_PROJECTION],
    ok: { description: 'Released', schema: QuotasSchemas.release },
    errors: [404, 409],
  })
  async release(
    @Ctx() ctx: CommandContext,
    @Param('orgId', IdPipe) orgId: string,
    @Param('reservationId', IdPipe) reservationId: string,
    @Query() _q: PositionOnlyQuery,
  ) {
    return this.commands.execute(new ReleaseReservation(ctx, orgId, reservationId));
  }

  @Get('quota-checks/:reservationId')
  @Endpoint({
    summary: 'A reservation on each quota it holds: live, settled, released or expired',
    requires: 'quota.read',
    reads: [QUOTA_DECISIONS_PROJECTION],
    ok: { description: 'On each quota it holds', schema: QuotasSchemas.reservation },
    errors: [404],
  })
  async reservation(
    @Param('orgId', IdPipe) orgId: string,
    @Param('reservationId', IdPipe) reservationId: string,
    @Query() _q: PositionOnlyQuery,
  ) {
    return this.queries.reservation(orgId, reservationId);
  }

  @Get('quota-alerts')
  @Endpoint({
    summary: 'Warnings and breaches, once per threshold (or breach) per quota and period',
    requires: 'quota.read',
    reads: [QUOTA_DECISIONS_PROJECTION],
    ok: { description: 'In time order', schema: QuotasSchemas.alerts },
    errors: [404],
  })
  alerts(@Param('orgId', IdPipe) orgId: string, @Query() q: AlertsQuery) {
    return this.queries.alerts(orgId, q);
  }

  @Get('quota-refusals')
  @Endpoint({
    summary: 'Audit: every refused check with the quota that refused it and the figures at that moment',
    requires: 'quota.read',
    reads: [QUOTA_DECISIONS_PROJECTION],
    ok: { description: 'In time order', schema: QuotasSchemas.refusals },
    errors: [404],
  })
  refusals(@Param('orgId', IdPipe) orgId: string, @Query() q: RefusalsQuery) {
    return this.queries.refusals(orgId, q);
  }
}
