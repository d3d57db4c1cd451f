import { Inject, Module } from '@nestjs/common';
import { CommandExecutor, EventRegistry, MESSAGE_BUS, MessageBus } from '@purser/core';
import { CONFIG, ProjectionRegistry, PurserConfig } from '@purser/platform';
import { DirectoryLookupModule } from '@purser/directory';
import { UsageCoreModule } from '@purser/usage';
import { QUOTA_EVENT_TYPES } from './events';
import { QuotaAlertsRelay, QuotaDecisionsProjection, QuotaUsageReactor } from './projections';
import { ReservationSweeper } from './sweeper';
import { QuotasController } from './quotas.controller';
import { QuotaQueries } from './queries';
import { QuotaDirectory } from './directory-view';
import { QuotaViews } from './views';
import { DEFINITION_HANDLERS } from './definitions';
import { CheckQuotaHandler, QuotaCheck } from './check';
import { RESERVATION_HANDLERS, ReservationReleaser } from './reservations';

/**
 * Quota definitions, the check, ledgers, the usage reactor, the decisions read model, the alerts relay and the
 * sweeper. Commands go CommandBus -> handler -> decider -> CommandExecutor (the check through core's GroupCommit).
 */
@Module({
  // DirectoryLookup and RatesLookup: what quotas asks of the directory and usage.
  imports: [DirectoryLookupModule, UsageCoreModule],
  providers: [
    QuotaDirectory,
    QuotaViews,
    ReservationReleaser,
    QuotaCheck,
    CheckQuotaHandler,
    ...DEFINITION_HANDLERS,
    ...RESERVATION_HANDLERS,
    ReservationSweeper,
  ],
  exports: [QuotaDirectory, QuotaViews, QuotaCheck],
})
export class QuotasCoreModule {
  constructor(
    events: EventRegistry,
    projections: ProjectionRegistry,
    executor: CommandExecutor,
    directory: QuotaDirectory,
    @Inject(MESSAGE_BUS) bus: MessageBus,
    @Inject(CONFIG) config: PurserConfig,
  ) {
    events.registerAll(QUOTA_EVENT_TYPES);
    projections.register(
      new QuotaUsageReactor(executor, directory),
      new QuotaDecisionsProjection(),
      new QuotaAlertsRelay(bus, config.alertsTopic),
    );
  }
}

/** Quotas over HTTP. */
@Module({
  imports: [QuotasCoreModule],
  providers: [QuotaQueries],
  controllers: [QuotasController],
})
export class QuotasModule {}
