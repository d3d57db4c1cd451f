import { Injectable } from '@nestjs/common';
import { CommandHandler, ICommandHandler } from '@nestjs/cqrs';
import { randomUUID } from 'node:crypto';
import {
  CommandContext,
  CommandExecutor,
  CommandResult,
  DomainEvent,
  NotFoundError,
  RuleViolationError,
  ValidationError,
  formatNanos,
  parseDecimal,
} from '@purser/core';
import { EntityType, Enforcement, Metric, QuotaDefinition, QuotaPeriod, QuotaStreams } from './events';
import { liveQuota, quotaBookDecider } from './book.decider';
import { QuotaDirectory } from './directory-view';
import { QuotaViews } from './views';

/** Defining, changing and removing quotas: commands on the org's quota book (CommandBus -> handler -> executor). */

export interface DefineQuotaInput {
  entityType: EntityType;
  entityId: string;
  itemType?: string | null;
  itemId?: string | null;
  metric: Metric;
  limit: string;
  period?: QuotaPeriod;
  enforcement?: Enforcement;
  thresholds?: number[];
  currency?: string;
}

export type QuotaChanges = Partial<Pick<QuotaDefinition, 'limit' | 'period' | 'enforcement' | 'thresholds'>>;

export interface QuotaCommandResult {
  id: string;
  position: string;
  revision?: string;
  events: string[];
}

export class DefineQuota {
  constructor(
    readonly ctx: CommandContext,
    readonly orgId: string,
    readonly input: DefineQuotaInput,
  ) {}
}
export class ChangeQuota {
  constructor(
    readonly ctx: CommandContext,
    readonly orgId: string,
    readonly quotaId: string,
    readonly changes: QuotaChanges,
    readonly expectedVersion?: number,
  ) {}
}
export class RemoveQuota {
  constructor(
    readonly ctx: CommandContext,
    readonly orgId: string,
    readonly quotaId: string,
    readonly expectedVersion?: number,
  ) {}
}

const eventTypes = (r: CommandResult<DomainEvent>) => r.events.map((e) => e.type);

@CommandHandler(DefineQuota)
@Injectable()
export class DefineQuotaHandler implements ICommandHandler<DefineQuota> {
  constructor(
    private readonly executor: CommandExecutor,
    private readonly directory: QuotaDirectory,
  ) {}

  async execute({ ctx, orgId, input }: DefineQuota): Promise<QuotaCommandResult> {
    const org = await this.directory.liveOrg(orgId);
    await this.assertEntity(orgId, input.entityType, input.entityId);
    if (input.itemId && !input.itemType)
      throw new ValidationError('itemId needs itemType', [{ field: 'itemType', problem: 'missing' }]);
    if (input.metric === 'cost' && input.currency && input.currency !== org.baseCurrency) {
      throw new RuleViolationError(`cost quotas are kept in the org's base currency ${org.baseCurrency}`, [
        { field: 'currency', problem: 'not the base currency' },
      ]);
    }
    if (input.metric !== 'cost' && input.currency) {
      throw new ValidationError(`${input.metric} quotas have no currency`, [
        { field: 'currency', problem: 'not allowed' },
      ]);
    }
    const definition: QuotaDefinition = {
      quotaId: randomUUID(),
      orgId,
      entityType: input.entityType,
      entityId: input.entityId,
      itemType: input.itemType ?? null,
      itemId: input.itemId ?? null,
      metric: input.metric,
      currency: input.metric === 'cost' ? org.baseCurrency : null,
      limit: normalizeLimit(input.metric, input.limit),
      period: input.period ?? 'month',
      enforcement: input.enforcement ?? 'hard',
      thresholds: normalizeThresholds(input.thresholds ?? [50, 80, 90]),
    };
    const r = await this.executor.execute(
      QuotaStreams.book(orgId),
      quotaBookDecider,
      { type: 'DefineQuota', definition },
      ctx,
      { orgId },
    );
    return { id: definition.quotaId, position: r.position.toString(), revision: '0', events: eventTypes(r) };
  }

  /** The entity a quota limits: this org, a live team of it, or a live user of it. */
  private async assertEntity(orgId: string, type: EntityType, id: string): Promise<void> {
    if (type === 'Org') {
      if (id !== orgId)
        throw new RuleViolationError('an Org quota must name this org', [
          { field: 'entityId', problem: 'another org' },
        ]);
      return;
    }
    if (type === 'Team') {
      if (!(await this.directory.isLiveTeam(orgId, id)))
        throw new NotFoundError(`team ${id} not found in org ${orgId}`, [
          { field: 'entityId', problem: 'unknown team' },
        ]);
      return;
    }
    if (!(await this.directory.liveUser(orgId, id)))
      throw new NotFoundError(`user ${id} not found in org ${orgId}`, [
        { field: 'entityId', problem: 'unknown user' },
      ]);
  }
}

@CommandHandler(ChangeQuota)
@Injectable()
export class ChangeQuotaHandler implements ICommandHandler<ChangeQuota> {
  constructor(
    private readonly executor: CommandExecutor,
    private readonly directory: QuotaDirectory,
    private readonly views: QuotaViews,
  ) {}

  async execute({ ctx, orgId, quotaId, changes, expectedVersion }: ChangeQuota): Promise<QuotaCommandResult> {
    await this.directory.liveOrg(orgId);
    const q = liveQuota(await this.views.book(orgId), quotaId);
    const normalized = { ...changes };
    if (changes.limit !== undefined) normalized.limit = normalizeLimit(q.metric, changes.limit);
    if (changes.thresholds !== undefined) normalized.thresholds = normalizeThresholds(changes.thresholds);
    const r = await this.executor.execute(
      QuotaStreams.book(orgId),
      quotaBookDecider,
      { type: 'ChangeQuota', quotaId, changes: normalized, expectedVersion },
      ctx,
      { orgId },
    );
    const after = (await this.views.book(orgId)).quotas.get(quotaId)!;
    return {
      id: quotaId,
      position: r.position.toString(),
      revision: String(after.version),
      events: eventTypes(r),
    };
  }
}

@CommandHandler(RemoveQuota)
@Injectable()
export class RemoveQuotaHandler implements ICommandHandler<RemoveQuota> {
  constructor(
    private readonly executor: CommandExecutor,
    private readonly directory: QuotaDirectory,
  ) {}

  async execute({ ctx, orgId, quotaId, expectedVersion }: RemoveQuota): Promise<QuotaCommandResult> {
    await this.directory.liveOrg(orgId);
    const r = await this.executor.execute(
      QuotaStreams.book(orgId),
      quotaBookDecider,
      { type: 'RemoveQuota', quotaId, expectedVersion },
      ctx,
      { orgId },
    );
    return { id: quotaId, position: r.position.toString(), events: eventTypes(r) };
  }
}

function normalizeLimit(metric: Metric, limit: string): string {
  const n = parseDecimal(limit);
  if (n === null || n < 0n)
    throw new ValidationError('limit must be a non-negative decimal string', [
      { field: 'limit', problem: 'invalid' },
    ]);
  if (metric !== 'cost' && n % 1_000_000_000n !== 0n) {
    throw new ValidationError(`a ${metric} limit must be a whole number`, [
      { field: 'limit', problem: 'not an integer' },
    ]);
  }
  return formatNanos(n);
}

function normalizeThresholds(t: number[]): number[] {
  for (const x of t) {
    if (!Number.isInteger(x) || x < 1 || x > 100)
      throw new ValidationError('thresholds are whole percents from 1 to 100', [
        { field: 'thresholds', problem: 'out of range' },
      ]);
  }
  return [...new Set(t)].sort((a, b) => a - b);
}

export const DEFINITION_HANDLERS = [DefineQuotaHandler, ChangeQuotaHandler, RemoveQuotaHandler];
