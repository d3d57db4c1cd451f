import { Module } from '@nestjs/common';
import { EventRegistry } from '@purser/core';
import { ProjectionRegistry } from '@purser/platform';
import { DirectoryLookupModule } from '@purser/directory';
import { USAGE_EVENT_TYPES } from './events';
import { ExpenditureProjection } from './projection';
import { UsageIngest } from './ingest';
import { RecordUsageHandler, SetExchangeRateHandler } from './commands';
import { UsageConsumer } from './usage.consumer';
import { ExpenditureQueries } from './queries';
import { UsageController } from './usage.controller';
import { CachedRatesLookup, RatesLookup } from './rates-lookup';

/** Usage events, the expenditure projection and the Kafka consumer: what the worker runs. */
@Module({
  imports: [DirectoryLookupModule],
  providers: [
    UsageIngest,
    RecordUsageHandler,
    SetExchangeRateHandler,
    UsageConsumer,
    { provide: RatesLookup, useClass: CachedRatesLookup },
  ],
  exports: [UsageIngest, RatesLookup],
})
export class UsageCoreModule {
  constructor(events: EventRegistry, projections: ProjectionRegistry) {
    events.registerAll(USAGE_EVENT_TYPES);
    projections.register(new ExpenditureProjection());
  }
}

/** Usage and expenditure over HTTP. */
@Module({
  imports: [UsageCoreModule],
  controllers: [UsageController],
  providers: [ExpenditureQueries],
  exports: [ExpenditureQueries],
})
export class UsageModule {}
