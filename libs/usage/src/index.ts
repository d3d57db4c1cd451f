export * from './events';
export * from './usage-input';
export * from './ingest';
export * from './projection';
export * from './queries';
export * from './commands';
export * from './rates.decider';
export * from './usage.module';
