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
import { ApiBody, ApiHeader, ApiOperation, ApiTags } from '@nestjs/swagger';
import { CommandContext } from '@purser/core';
import { Ctx, IdPipe, ReadsProjections, Requires, errorBody, parseIfMatchVersion } from '@purser/platform';
import { ApiResponse } from '@nestjs/swagger';
import { ApiErrors } from '@purser/platform';
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

const IF_MATCH = {
  name: 'If-Match',
  required: false,
  description: 'The revision you read; a stale one is refused with 409',
};

@ApiTags('quotas')
@Controller('v1/orgs/:orgId')
export class QuotasController {
  constructor(
    private readonly commands: CommandBus,
    private readonly views: QuotaViews,
    private readonly queries: QuotaQueries,
  ) {}

  @Post('quotas')
  @Requires('quota.manage')
  @ApiResponse({ status: 201, description: 'Defined', schema: QuotasSchemas.commandResult })
  @ApiErrors(404, 409, 422)
  @ApiOperation({
    summary:
      'Define a quota for the org, a team (counts its sub-teams) or a user; overall, per item type or per item',
  })
  define(@Ctx() ctx: CommandContext, @Param('orgId', IdPipe) orgId: string, @Body() body: DefineQuotaDto) {
    return this.commands.execute(new DefineQuota(ctx, orgId, body));
  }

  @Get('quotas')
  @Requires('quota.read')
  @ReadsProjections(QUOTA_USAGE_PROJECTION)
  @ApiResponse({ status: 200, description: 'With their figures', schema: QuotasSchemas.list })
  @ApiErrors(404)
  @ApiOperation({ summary: "The org's quotas with used, reserved and remaining for the period in force" })
  async list(@Param('orgId', IdPipe) orgId: string, @Query() q: QuotaListQuery) {
    return this.views.list(orgId, q);
  }

  @Get('quotas/:quotaId')
  @Requires('quota.read')
  @ReadsProjections(QUOTA_USAGE_PROJECTION)
  @ApiResponse({ status: 200, description: 'With its figures', schema: QuotasSchemas.quota })
  @ApiErrors(404)
  @ApiOperation({ summary: 'One quota with its current figures' })
  async get(
    @Param('orgId', IdPipe) orgId: string,
    @Param('quotaId', IdPipe) quotaId: string,
    @Query() _q: PositionOnlyQuery,
  ) {
    return this.views.get(orgId, quotaId);
  }

  @Patch('quotas/:quotaId')
  @Requires('quota.manage')
  @ApiResponse({ status: 200, description: 'Changed', schema: QuotasSchemas.commandResult })
  @ApiErrors(404, 409, 422)
  @ApiHeader(IF_MATCH)
  @ApiOperation({ summary: 'Change limit, period, enforcement or thresholds' })
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
  @Requires('quota.manage')
  @ApiResponse({ status: 200, description: 'Removed', schema: QuotasSchemas.commandResult })
  @ApiErrors(404, 409, 422)
  @ApiHeader(IF_MATCH)
  @ApiOperation({ summary: 'Remove a quota (its history is kept)' })
  remove(
    @Ctx() ctx: CommandContext,
    @Param('orgId', IdPipe) orgId: string,
    @Param('quotaId', IdPipe) quotaId: string,
    @Headers('if-match') ifMatch?: string,
  ) {
    return this.commands.execute(new RemoveQuota(ctx, orgId, quotaId, parseIfMatchVersion(ifMatch)));
  }

  @Get('users/:userId/quotas')
  @Requires('quota.read')
  @ReadsProjections(QUOTA_USAGE_PROJECTION)
  @ApiResponse({ status: 200, description: 'With why each applies', schema: QuotasSchemas.userQuotas })
  @ApiErrors(404)
  @ApiOperation({
    summary: "Every quota that applies to a user (theirs, their teams' and ancestors', the org's)",
  })
  async forUser(
    @Param('orgId', IdPipe) orgId: string,
    @Param('userId', IdPipe) userId: string,
    @Query() _q: PositionOnlyQuery,
  ) {
    return this.views.forUser(orgId, userId);
  }

  @Post('quota-checks')
  @Requires('quota.check')
  @ApiResponse({ status: 200, description: 'Allowed, with a reservation', schema: QuotasSchemas.check })
  @ApiResponse({
    status: 429,
    description: 'Refused by a quota (the one error shape with the check result)',
    schema: QuotasSchemas.refused,
  })
  @ApiErrors(404, 422)
  @HttpCode(200)
  @ApiOperation({
    summary:
      'Check and reserve before spending: 200 allowed with a reservation, 429 refused naming the quota',
    description:
      'Send the reservationId with the usage to settle it; unsettled reservations expire (PURSER_RESERVATION_TTL_MS).',
  })
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
  @Requires('quota.check')
  @ReadsProjections(QUOTA_DECISIONS_PROJECTION)
  @ApiResponse({ status: 200, description: 'Released', schema: QuotasSchemas.release })
  @ApiErrors(404, 409)
  @ApiOperation({ summary: 'Release a reservation the caller will not use' })
  async release(
    @Ctx() ctx: CommandContext,
    @Param('orgId', IdPipe) orgId: string,
    @Param('reservationId', IdPipe) reservationId: string,
    @Query() _q: PositionOnlyQuery,
  ) {
    return this.commands.execute(new ReleaseReservation(ctx, orgId, reservationId));
  }

  @Get('quota-checks/:reservationId')
  @Requires('quota.read')
  @ReadsProjections(QUOTA_DECISIONS_PROJECTION)
  @ApiResponse({ status: 200, description: 'On each quota it holds', schema: QuotasSchemas.reservation })
  @ApiErrors(404)
  @ApiOperation({ summary: 'A reservation on each quota it holds: live, settled, released or expired' })
  async reservation(
    @Param('orgId', IdPipe) orgId: string,
    @Param('reservationId', IdPipe) reservationId: string,
    @Query() _q: PositionOnlyQuery,
  ) {
    return this.queries.reservation(orgId, reservationId);
  }

  @Get('quota-alerts')
  @Requires('quota.read')
  @ReadsProjections(QUOTA_DECISIONS_PROJECTION)
  @ApiResponse({ status: 200, description: 'In time order', schema: QuotasSchemas.alerts })
  @ApiErrors(404)
  @ApiOperation({ summary: 'Warnings and breaches, once per threshold (or breach) per quota and period' })
  alerts(@Param('orgId', IdPipe) orgId: string, @Query() q: AlertsQuery) {
    return this.queries.alerts(orgId, q);
  }

  @Get('quota-refusals')
  @Requires('quota.read')
  @ReadsProjections(QUOTA_DECISIONS_PROJECTION)
  @ApiResponse({ status: 200, description: 'In time order', schema: QuotasSchemas.refusals })
  @ApiErrors(404)
  @ApiOperation({
    summary: 'Audit: every refused check with the quota that refused it and the figures at that moment',
  })
  refusals(@Param('orgId', IdPipe) orgId: string, @Query() q: RefusalsQuery) {
    return this.queries.refusals(orgId, q);
  }
}
