/**
 * Usage's public face: its modules, its events, the shape of a usage event and of ingest's answer, its HTTP DTO and
 * response types, and RatesLookup (what other contexts may ask of it). Its deciders, states, streams, projection,
 * queries and ingest are its own.
 */
export { UsageModule, UsageCoreModule } from './usage.module';
export { ITEM_TYPES, USAGE_EVENT_TYPES } from './events';
export type { ItemType, UsageRecorded, ExchangeRateSet, UsageEvent } from './events';
export type { UsageInput } from './usage-input';
export type { UsageOutcome, IngestResult } from './ingest';
export type {
  SetExchangeRateDto,
  ExpenditureQueryDto,
  TopQueryDto,
  RecordsQueryDto,
  CsvQueryDto,
} from './dto';
export type { ExpenditureQuery, MoneyView, FigureView, RowView, Dimension, GroupKey } from './queries';
export { usageConsumerGroup } from './usage.consumer';
export * from './rates-lookup';
