import { CommandHandler, ICommandHandler } from '@nestjs/cqrs';
import { CommandContext, CommandExecutor } from '@purser/core';
import { DirectoryLookup, orgNotFound } from '@purser/directory';
import { IngestResult, UsageIngest } from './ingest';
import { ratesDecider } from './rates.decider';
import { UsageStreams } from './events';

/** Records a batch of usage events (HTTP and Kafka both come through here). */
export class RecordUsage {
  constructor(
    readonly ctx: CommandContext,
    readonly events: unknown[],
  ) {}
}

export class SetExchangeRateCommand {
  constructor(
    readonly ctx: CommandContext,
    readonly orgId: string,
    readonly currency: string,
    readonly rate: string,
    readonly effectiveFrom: string,
  ) {}
}

@CommandHandler(RecordUsage)
export class RecordUsageHandler implements ICommandHandler<RecordUsage> {
  constructor(private readonly ingest: UsageIngest) {}
  execute({ ctx, events }: RecordUsage): Promise<IngestResult> {
    return this.ingest.record(events, ctx);
  }
}

@CommandHandler(SetExchangeRateCommand)
export class SetExchangeRateHandler implements ICommandHandler<SetExchangeRateCommand> {
  constructor(
    private readonly executor: CommandExecutor,
    private readonly directory: DirectoryLookup,
  ) {}
  async execute({ ctx, orgId, currency, rate, effectiveFrom }: SetExchangeRateCommand) {
    const org = await this.directory.org(orgId, 'current');
    if (!org) throw orgNotFound(orgId);
    const r = await this.executor.execute(
      UsageStreams.rates(orgId),
      ratesDecider,
      { type: 'SetExchangeRate', orgId, baseCurrency: org.baseCurrency, currency, rate, effectiveFrom },
      ctx,
      { orgId },
    );
    return {
      orgId,
      currency,
      baseCurrency: org.baseCurrency,
      rate,
      effectiveFrom,
      position: r.position.toString(),
      events: r.events.map((e) => e.type),
    };
  }
}
