export { SqliteReadStore } from './sqlite/sqlite-read-store';
export type { SqliteReadStoreOptions } from './sqlite/sqlite-read-store';
// Types only: the MongoDB adapter (and mongoose) load when imported from '@purser/engines/mongo/mongo-read-store'.
export type { MongoReadStore, MongoReadStoreOptions } from './mongo/mongo-read-store';
export { MemoryReadStore } from './memory/memory-read-store';
