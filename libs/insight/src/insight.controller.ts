import { Controller, Get, Param, Query } from '@nestjs/common';
import { ApiTags } from '@nestjs/swagger';
import { Endpoint, IdPipe } from '@purser/platform';
import { InsightSchemas } from './api.schemas';
import { ForecastQueryDto } from './dto';
import { ForecastQueries } from './forecast.queries';
import { INSIGHT_SERIES_PROJECTION } from './series.projection';

@ApiTags('insight')
@Controller()
export class InsightController {
  constructor(private readonly forecasts: ForecastQueries) {}

  @Get('v1/orgs/:orgId/forecast')
  @Endpoint({
    summary: "Forecast spend to the end of the current day, week or month (the org's zone)",
    description:
      'Daily spend of the org, a team (with sub-teams), a user or an item, in the currency most of its calls were in, ' +
      'up to yesterday; the method (run rate, seasonal naive, Holt-Winters) with the lowest rolling-origin backtest ' +
      'MAE; intervals from the backtest residuals. 404: unknown org, team, user or item (an item is known by its ' +
      'usage). 422: too little history (details say how many days are needed).',
    requires: 'usage.read',
    reads: [INSIGHT_SERIES_PROJECTION],
    ok: { description: 'The forecast', schema: InsightSchemas.forecast },
    errors: [404, 422],
  })
  async forecast(@Param('orgId', IdPipe) orgId: string, @Query() q: ForecastQueryDto) {
    return this.forecasts.forecast(orgId, q.entityType, q.entityId, q.horizon);
  }
}
