import {
  Body,
  Controller,
  Delete,
  Get,
  Headers,
  HttpCode,
  Inject,
  Param,
  Patch,
  Post,
  Query,
  Res,
} from '@nestjs/common';
import { ApiBody, ApiHeader, ApiOperation, ApiTags } from '@nestjs/swagger';
import { ApiResponse } from '@nestjs/swagger';
import { CommandContext, Filter, NotFoundError, READ_STORE, ReadStore } from '@purser/core';
import { Ctx, ReadYourWrites, errorBody, parseId, parseIfMatchVersion } from '@purser/platform';
import { ApiErrors } from '@purser/platform';
import { QuotasSchemas } from './api.schemas';
import {
  AlertsQuery,
  ChangeQuotaDto,
  DecisionsQuery,
  DefineQuotaDto,
  PositionOnlyQuery,
  QuotaCheckDto,
  QuotaListQuery,
  RefusalsQuery,
} from './dto';
import { ALERTS, CheckInput, QuotasService, RESERVATIONS, REFUSALS } from './quotas.service';
import { CheckInputPipe } from './check-input.pipe';

const IF_MATCH = {
  name: 'If-Match',
  required: false,
  description: 'The revision you read; a stale one is refused with 409',
};

@ApiTags('quotas')
@Controller('v1/orgs/:orgId')
export class QuotasController {
  constructor(
    private readonly quotas: QuotasService,
    private readonly ryw: ReadYourWrites,
    @Inject(READ_STORE) private readonly store: ReadStore,
  ) {}

  @Post('quotas')
  @ApiResponse({ status: 201, description: 'Defined', schema: QuotasSchemas.commandResult })
  @ApiErrors(404, 409, 422)
  @ApiOperation({
    summary:
      'Define a quota for the org, a team (counts its sub-teams) or a user; overall, per item type or per item',
  })
  define(@Ctx() ctx: CommandContext, @Param('orgId') orgId: string, @Body() body: DefineQuotaDto) {
    parseId(orgId, 'orgId');
    return this.quotas.define(orgId, body, ctx);
  }

  @Get('quotas')
  @ApiResponse({ status: 200, description: 'With their figures', schema: QuotasSchemas.list })
  @ApiErrors(404)
  @ApiOperation({ summary: "The org's quotas with used, reserved and remaining for the period in force" })
  async list(@Param('orgId') orgId: string, @Query() q: QuotaListQuery) {
    parseId(orgId, 'orgId');
    await this.ryw.waitFor(q.minPosition, ['quota-usage']);
    return this.quotas.list(orgId, q);
  }

  @Get('quotas/:quotaId')
  @ApiResponse({ status: 200, description: 'With its figures', schema: QuotasSchemas.quota })
  @ApiErrors(404)
  @ApiOperation({ summary: 'One quota with its current figures' })
  async get(@Param('orgId') orgId: string, @Param('quotaId') quotaId: string, @Query() q: PositionOnlyQuery) {
    parseId(orgId, 'orgId');
    parseId(quotaId, 'quotaId');
    await this.ryw.waitFor(q.minPosition, ['quota-usage']);
    return this.quotas.get(orgId, quotaId);
  }

  @Patch('quotas/:quotaId')
  @ApiResponse({ status: 200, description: 'Changed', schema: QuotasSchemas.commandResult })
  @ApiErrors(404, 409, 422)
  @ApiHeader(IF_MATCH)
  @ApiOperation({ summary: 'Change limit, period, enforcement or thresholds' })
  change(
    @Ctx() ctx: CommandContext,
    @Param('orgId') orgId: string,
    @Param('quotaId') quotaId: string,
    @Body() body: ChangeQuotaDto,
    @Headers('if-match') ifMatch?: string,
  ) {
    parseId(orgId, 'orgId');
    parseId(quotaId, 'quotaId');
    return this.quotas.change(orgId, quotaId, { ...body }, parseIfMatchVersion(ifMatch), ctx);
  }

  @Delete('quotas/:quotaId')
  @ApiResponse({ status: 200, description: 'Removed', schema: QuotasSchemas.commandResult })
  @ApiErrors(404, 409, 422)
  @ApiHeader(IF_MATCH)
  @ApiOperation({ summary: 'Remove a quota (its history is kept)' })
  remove(
    @Ctx() ctx: CommandContext,
    @Param('orgId') orgId: string,
    @Param('quotaId') quotaId: string,
    @Headers('if-match') ifMatch?: string,
  ) {
    parseId(orgId, 'orgId');
    parseId(quotaId, 'quotaId');
    return this.quotas.remove(orgId, quotaId, parseIfMatchVersion(ifMatch), ctx);
  }

  @Get('users/:userId/quotas')
  @ApiResponse({ status: 200, description: 'With why each applies', schema: QuotasSchemas.userQuotas })
  @ApiErrors(404)
  @ApiOperation({
    summary: "Every quota that applies to a user (theirs, their teams' and ancestors', the org's)",
  })
  async forUser(
    @Param('orgId') orgId: string,
    @Param('userId') userId: string,
    @Query() q: PositionOnlyQuery,
  ) {
    parseId(orgId, 'orgId');
    parseId(userId, 'userId');
    await this.ryw.waitFor(q.minPosition, ['quota-usage']);
    return this.quotas.forUser(orgId, userId);
  }

  @Post('quota-checks')
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
    @Param('orgId') orgId: string,
    // Typed `unknown` so that the global ValidationPipe leaves it to CheckInputPipe (same rules, same 400).
    @Body(CheckInputPipe) body: unknown,
    @Res({ passthrough: true }) reply: { status(code: number): unknown },
  ) {
    parseId(orgId, 'orgId');
    const res = await this.quotas.check(orgId, body as CheckInput, ctx);
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
  @ApiResponse({ status: 200, description: 'Released', schema: QuotasSchemas.release })
  @ApiErrors(404, 409)
  @ApiOperation({ summary: 'Release a reservation the caller will not use' })
  async release(
    @Ctx() ctx: CommandContext,
    @Param('orgId') orgId: string,
    @Param('reservationId') reservationId: string,
    @Query() q: PositionOnlyQuery,
  ) {
    parseId(orgId, 'orgId');
    parseId(reservationId, 'reservationId');
    await this.ryw.waitFor(q.minPosition, ['quota-decisions']);
    return this.quotas.release(orgId, reservationId, ctx);
  }

  @Get('quota-checks/:reservationId')
  @ApiResponse({ status: 200, description: 'On each quota it holds', schema: QuotasSchemas.reservation })
  @ApiErrors(404)
  @ApiOperation({ summary: 'A reservation on each quota it holds: live, settled, released or expired' })
  async reservation(
    @Param('orgId') orgId: string,
    @Param('reservationId') reservationId: string,
    @Query() q: PositionOnlyQuery,
  ) {
    parseId(orgId, 'orgId');
    parseId(reservationId, 'reservationId');
    await this.ryw.waitFor(q.minPosition, ['quota-decisions']);
    const page = await this.store.find(RESERVATIONS, { orgId, reservationId }, { limit: 100 });
    if (!page.items.length)
      throw new NotFoundError(`reservation ${reservationId} not found in org ${orgId}`, [
        { field: 'reservationId', problem: 'unknown' },
      ]);
    return {
      reservationId,
      quotas: page.items.map((r) => ({
        quotaId: r.quotaId,
        period: r.period,
        amount: r.amount,
        state: r.state,
        expiresAt: r.expiresAt,
        closedAt: r.closedAt ?? null,
      })),
    };
  }

  @Get('quota-alerts')
  @ApiResponse({ status: 200, description: 'In time order', schema: QuotasSchemas.alerts })
  @ApiErrors(404)
  @ApiOperation({ summary: 'Warnings and breaches, once per threshold (or breach) per quota and period' })
  alerts(@Param('orgId') orgId: string, @Query() q: AlertsQuery) {
    return this.decisions(ALERTS, orgId, q, q.quotaId ? { quotaId: q.quotaId } : {});
  }

  @Get('quota-refusals')
  @ApiResponse({ status: 200, description: 'In time order', schema: QuotasSchemas.refusals })
  @ApiErrors(404)
  @ApiOperation({
    summary: 'Audit: every refused check with the quota that refused it and the figures at that moment',
  })
  refusals(@Param('orgId') orgId: string, @Query() q: RefusalsQuery) {
    return this.decisions(REFUSALS, orgId, q, q.userId ? { 'requester.userId': q.userId } : {});
  }

  /** Alerts and refusals: facts of one org in time order, with cursor paging. */
  private async decisions(collection: string, orgId: string, q: DecisionsQuery, extra: Filter) {
    parseId(orgId, 'orgId');
    await this.ryw.waitFor(q.minPosition, ['quota-decisions']);
    await this.quotas.org(orgId);
    const filter: Filter = { orgId, ...extra };
    if (q.from || q.to) {
      filter.at = {
        ...(q.from ? { $gte: new Date(q.from).toISOString() } : {}),
        ...(q.to ? { $lt: new Date(q.to).toISOString() } : {}),
      };
    }
    const page = await this.store.find(collection, filter, {
      sort: { at: 1 },
      limit: q.limit ?? 100,
      cursor: q.cursor,
    });
    return {
      items: page.items.map(({ _id, position, ...r }) => ({
        eventId: _id,
        ...r,
        position: String(Number(position)),
      })),
      nextCursor: page.nextCursor,
    };
  }
}
