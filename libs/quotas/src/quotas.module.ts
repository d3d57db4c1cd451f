import { Inject, Module } from '@nestjs/common';
import { CommandExecutor, EventRegistry, MESSAGE_BUS, MessageBus } from '@purser/core';
import { CONFIG, ProjectionRegistry, PurserConfig } from '@purser/platform';
import { QUOTA_EVENT_TYPES } from './events';
import { QuotasService } from './quotas.service';
import { QuotaAlertsRelay, QuotaDecisionsProjection, QuotaUsageReactor } from './projections';
import { ReservationSweeper } from './sweeper';
import { QuotasController } from './quotas.controller';
import { QuotaQueries } from './queries';

/** Quota definitions, ledgers, the usage reactor, the decisions read model, the alerts relay and the sweeper. */
@Module({
  providers: [QuotasService, ReservationSweeper],
  exports: [QuotasService],
})
export class QuotasCoreModule {
  constructor(
    events: EventRegistry,
    projections: ProjectionRegistry,
    executor: CommandExecutor,
    quotas: QuotasService,
    @Inject(MESSAGE_BUS) bus: MessageBus,
    @Inject(CONFIG) config: PurserConfig,
  ) {
    events.registerAll(QUOTA_EVENT_TYPES);
    projections.register(
      new QuotaUsageReactor(executor, quotas),
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
