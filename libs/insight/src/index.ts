/**
 * Insight's public face: its modules, the forecast's view and the pure forecasters and detector (for the bench).
 * Its projection and queries are its own.
 */
export { InsightModule, InsightProjectionsModule } from './insight.module';
export type { ForecastView, Horizon } from './forecast.queries';
export type { EntityType } from './series.projection';
export * from './forecast/run-rate';
export * from './forecast/seasonal-naive';
export * from './forecast/holt-winters';
export * from './forecast/backtest';
export * from './anomaly/detect';
export { moneyString } from './money-view';
