import { Body, Controller, Get, HttpCode, Param, Post, Query, Res } from '@nestjs/common';
import { CommandBus } from '@nestjs/cqrs';
import { ApiBody, ApiQuery, ApiTags } from '@nestjs/swagger';
import { Readable } from 'node:stream';
import {
  CommandContext,
  ConflictError,
  RuleViolationError,
  ValidationError,
  dateOrInstantOrThrow,
  instantOrThrow,
  orgNotFound,
} from '@purser/core';
import { ApiSchemas, Ctx, Endpoint, IdPipe } from '@purser/platform';
import { UsageSchemas } from './api.schemas';
import { RecordUsage, SetExchangeRateCommand } from './commands';
import { CsvQueryDto, ExpenditureQueryDto, RecordsQueryDto, SetExchangeRateDto, TopQueryDto } from './dto';
import { IngestResult, MAX_BATCH } from './ingest';
import { EXPENDITURE_PROJECTION } from './projection';
import { ExpenditureQueries, recordView } from './queries';

const EXAMPLE = {
  eventId: '9b2f4c1e-7f3a-4a8e-9d0b-2c5e6f7a8b9c',
  orgId: '<orgId>',
  userId: '<userId>',
  itemType: 'Agent',
  itemId: 'research-agent',
  amount: '0.0125',
  currency: 'USD',
  inputTokens: 1200,
  outputTokens: 340,
  model: 'gpt-x',
  occurredAt: '2026-11-25T14:02:00Z',
};

@ApiTags('usage')
@Controller()
export class UsageController {
  constructor(
    private readonly commands: CommandBus,
    private readonly queries: ExpenditureQueries,
  ) {}

  @Post('v1/usage')
  @Endpoint({
    summary: 'Record usage: one event, or a batch of up to 1,000 ({"events": [...]} or a JSON array)',
    description:
      'Each event carries a client-chosen eventId: the same eventId sent again, over HTTP or Kafka, is recorded once. ' +
      'A batch answers 200 with recorded / duplicate / conflict / rejected per event; a single event answers 201 (recorded), 200 (duplicate), 409 (its eventId already recorded with another payload: both fingerprints in details), 400 or 422.',
    requires: 'usage.record',
    created: { description: 'A single event, recorded', schema: UsageSchemas.outcome },
    ok: {
      description:
        'A batch: the outcome of each event (some may be rejected); or a single event already recorded (duplicate)',
      schema: { oneOf: [UsageSchemas.ingestResult, UsageSchemas.outcome] },
    },
    errors: [409, 422],
  })
  @HttpCode(200)
  @ApiBody({ schema: UsageSchemas.request, examples: { single: { value: EXAMPLE } } })
  async record(
    @Ctx() ctx: CommandContext,
    @Body() body: unknown,
    @Res({ passthrough: true }) reply: { status(code: number): unknown },
  ) {
    let events: unknown;
    let single = false;
    if (Array.isArray(body)) events = body;
    else if (body && typeof body === 'object' && 'events' in body) {
      if (Object.keys(body).length !== 1)
        throw new ValidationError('a batch body holds only "events"', [
          { field: 'events', problem: 'extra fields' },
        ]);
      events = (body as { events: unknown }).events;
    } else {
      events = [body];
      single = true;
    }
    if (!Array.isArray(events) || events.length === 0) {
      throw new ValidationError('events must be a non-empty array', [
        { field: 'events', problem: 'empty or not an array' },
      ]);
    }
    if (events.length > MAX_BATCH) {
      throw new ValidationError(`a batch holds at most ${MAX_BATCH} events (got ${events.length})`, [
        { field: 'events', problem: 'too many' },
      ]);
    }
    if (single && ctx.confinedTo) {
      const orgId = (body as { orgId?: unknown }).orgId;
      // Another org's id is answered as an org that does not exist (no probing which orgs exist).
      if (typeof orgId === 'string' && orgId !== ctx.confinedTo) throw orgNotFound(orgId);
    }
    const res: IngestResult = await this.commands.execute(new RecordUsage(ctx, events));
    if (!single) return res;
    const r = res.results[0];
    if (r.status === 'rejected') {
      if (r.code === 'invalid') throw new ValidationError(r.reason, [{ field: 'event', problem: r.reason }]);
      throw new RuleViolationError(r.reason, [{ field: 'event', problem: r.reason }]);
    }
    if (r.status === 'conflict') {
      throw new ConflictError(r.reason, [
        {
          field: 'eventId',
          problem: 'already recorded with a different payload',
          eventId: r.eventId,
          position: r.position,
          fingerprint: r.fingerprint,
          storedFingerprint: r.storedFingerprint,
        },
      ]);
    }
    if (r.status === 'recorded') reply.status(201);
    return r;
  }

  @Post('v1/orgs/:orgId/exchange-rates')
  @Endpoint({
    summary: "Set an exchange rate to the org's base currency, effective from an instant",
    requires: 'rate.manage',
    created: { description: 'Set', schema: UsageSchemas.rateSet },
    errors: [404, 422],
  })
  setRate(
    @Ctx() ctx: CommandContext,
    @Param('orgId', IdPipe) orgId: string,
    @Body() body: SetExchangeRateDto,
  ) {
    return this.commands.execute(
      new SetExchangeRateCommand(
        ctx,
        orgId,
        body.currency,
        body.rate,
        instantOrThrow(body.effectiveFrom, 'effectiveFrom'),
      ),
    );
  }

  @Get('v1/orgs/:orgId/exchange-rates')
  @Endpoint({
    summary: "The org's exchange rates, by currency and effective date",
    requires: 'rate.read',
    reads: [EXPENDITURE_PROJECTION],
    ok: { description: 'By currency and effective date', schema: UsageSchemas.rates },
    errors: [404],
  })
  @ApiQuery({
    name: 'minPosition',
    required: false,
    schema: ApiSchemas.position,
    description: 'Wait until the read models include this position (else 503)',
  })
  // minPosition is declared for the OpenAPI document; the read-your-writes interceptor reads and waits for it.
  async rates(@Param('orgId', IdPipe) orgId: string, @Query('minPosition') _minPosition?: string) {
    return this.queries.rates(orgId);
  }

  @Get('v1/orgs/:orgId/expenditure')
  @Endpoint({
    summary: 'Expenditure by period and/or dimension, exact per currency and in the base currency',
    description:
      'Periods follow the org time zone; from/to are rounded out to whole periods of the grain (day when none). ' +
      'Team figures include all sub-teams as of when the usage happened.',
    requires: 'usage.read',
    reads: [EXPENDITURE_PROJECTION],
    ok: { description: 'Rows and total', schema: UsageSchemas.expenditure },
    errors: [404],
  })
  async expenditure(@Param('orgId', IdPipe) orgId: string, @Query() q: ExpenditureQueryDto) {
    if (q.itemId && !q.itemType)
      throw new ValidationError('itemId needs itemType', [{ field: 'itemType', problem: 'missing' }]);
    return this.queries.expenditure(orgId, { ...strictRange(q), groupBy: q.groupBy ?? [] });
  }

  @Get('v1/orgs/:orgId/expenditure/top')
  @Endpoint({
    summary: 'Top users, teams, item types or items by spend in a period',
    requires: 'usage.read',
    reads: [EXPENDITURE_PROJECTION],
    ok: { description: 'Ranked by base-currency amount', schema: UsageSchemas.top },
    errors: [404],
  })
  async top(@Param('orgId', IdPipe) orgId: string, @Query() q: TopQueryDto) {
    return this.queries.top(orgId, q.by, { ...strictRange(q), limit: q.limit ?? 10 });
  }

  @Get('v1/orgs/:orgId/usage-records')
  @Endpoint({
    summary: 'Raw usage records of the org, a team (with sub-teams), a user or an item, with cursor paging',
    requires: 'usage.read',
    reads: [EXPENDITURE_PROJECTION],
    ok: { description: 'A page of records', schema: UsageSchemas.records },
    errors: [404],
  })
  async records(@Param('orgId', IdPipe) orgId: string, @Query() q: RecordsQueryDto) {
    return this.queries.records(orgId, { ...strictRange(q), limit: q.limit ?? 100 });
  }

  @Get('v1/orgs/:orgId/usage-records.csv')
  @Endpoint({
    summary: 'The same records as CSV, streamed',
    requires: 'usage.read',
    reads: [EXPENDITURE_PROJECTION],
    ok: { description: 'CSV, streamed', content: { 'text/csv': { schema: { type: 'string' } } } },
    errors: [404],
  })
  async csv(@Param('orgId', IdPipe) orgId: string, @Query() query: CsvQueryDto, @Res() reply: any) {
    const q = strictRange(query);
    const { start, end } = await this.queries.recordsRange(orgId, q.from, q.to);
    const queries = this.queries;
    async function* lines() {
      yield CSV_HEADER;
      for await (const r of queries.scan(orgId, q, start, end)) yield csvLine(r);
    }
    reply
      .header('content-type', 'text/csv; charset=utf-8')
      .header('content-disposition', `attachment; filename="usage-${orgId}.csv"`)
      .send(Readable.from(lines()));
  }
}

/** from/to as strict dates or instants: 2026-02-30 is a 400, not March 2. */
function strictRange<Q extends { from: string; to: string }>(q: Q): Q {
  return { ...q, from: dateOrInstantOrThrow(q.from, 'from'), to: dateOrInstantOrThrow(q.to, 'to') };
}

const COLUMNS = [
  'eventId',
  'occurredAt',
  'userId',
  'teamId',
  'itemType',
  'itemId',
  'amount',
  'currency',
  'baseAmount',
  'baseCurrency',
  'rate',
  'inputTokens',
  'outputTokens',
  'model',
  'reservationId',
  'recordedAt',
] as const;
const CSV_HEADER = COLUMNS.join(',') + '\n';

function cell(v: unknown): string {
  if (v === null || v === undefined) return '';
  const s = String(v);
  // Quote when needed; neutralize spreadsheet formulas.
  const safe = /^[=+\-@\t\r]/.test(s) && !/^-?\d/.test(s) ? `'${s}` : s;
  return /[",\n\r]/.test(safe) ? `"${safe.replace(/"/g, '""')}"` : safe;
}

function csvLine(r: Parameters<typeof recordView>[0]): string {
  const v = recordView(r);
  const row: Record<(typeof COLUMNS)[number], unknown> = {
    eventId: v.eventId,
    occurredAt: v.occurredAt,
    userId: v.userId,
    teamId: v.teamId,
    itemType: v.itemType,
    itemId: v.itemId,
    amount: v.amount,
    currency: v.currency,
    baseAmount: v.base.amount,
    baseCurrency: v.base.currency,
    rate: v.base.rate,
    inputTokens: v.inputTokens,
    outputTokens: v.outputTokens,
    model: v.model,
    reservationId: v.reservationId,
    recordedAt: v.recordedAt,
  };
  return COLUMNS.map((c) => cell(row[c])).join(',') + '\n';
}
