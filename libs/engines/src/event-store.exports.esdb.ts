export { EsdbEventStore } from './esdb/esdb-event-store';
export type { EsdbEventStoreOptions, EsdbRetryOptions } from './esdb/esdb-event-store';
