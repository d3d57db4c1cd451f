export { SqliteReadStore } from './sqlite/sqlite-read-store';
export type { SqliteReadStoreOptions } from './sqlite/sqlite-read-store';
export { MongoReadStore } from './mongo/mongo-read-store';
export type { MongoReadStoreOptions } from './mongo/mongo-read-store';
