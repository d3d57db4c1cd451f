/**
 * Adapters, one per engine, each behind a port from @purser/core and passing that port's contract suite.
 * This entry loads the embedded engines only (SQLite, in-process) and the selection, which loads the production
 * adapters it picks on demand. The production adapters are exported here as types; import their classes from
 * their own modules (`@purser/engines/kafka/kafka-bus`, `@purser/engines/mongo/mongo-read-store`,
 * `@purser/engines/esdb/esdb-event-store`), which load their vendor clients.
 */
export * from './select';
export * from './sqlite/sqlite-event-store';
export * from './sqlite/pragmas';
export * from './read-store.exports';
export * from './message-bus.exports';
export * from './mailer.exports';
export * from './event-store.exports.esdb';
