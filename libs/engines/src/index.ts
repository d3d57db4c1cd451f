/** Adapters, one per engine, each behind a port from @purser/core and passing that port's contract suite. */
export * from './sqlite/sqlite-event-store';
export * from './sqlite/pragmas';
export * from './read-store.exports';
export * from './message-bus.exports';
export * from './event-store.exports.esdb';
