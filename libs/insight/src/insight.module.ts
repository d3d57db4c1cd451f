import { Module } from '@nestjs/common';
import { ProjectionRegistry } from '@purser/platform';
import { DirectoryLookupModule } from '@purser/directory';
import { InsightController } from './insight.controller';
import { ForecastQueries } from './forecast.queries';
import { InsightSeriesProjection } from './series.projection';

/** The insight-series projection: what the worker runs. */
@Module({})
export class InsightProjectionsModule {
  constructor(projections: ProjectionRegistry) {
    projections.register(new InsightSeriesProjection());
  }
}

/** Forecasts over HTTP. */
@Module({
  imports: [InsightProjectionsModule, DirectoryLookupModule],
  controllers: [InsightController],
  providers: [ForecastQueries],
})
export class InsightModule {}
