export * from './events';
export * from './book.decider';
export * from './ledger.decider';
export * from './quotas.service';
export * from './projections';
export * from './sweeper';
export * from './quotas.module';
