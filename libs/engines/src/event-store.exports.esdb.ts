// Types only: the EventStoreDB adapter (and its client) load when imported from '@purser/engines/esdb/esdb-event-store'.
export type { EsdbEventStore, EsdbEventStoreOptions, EsdbRetryOptions } from './esdb/esdb-event-store';
