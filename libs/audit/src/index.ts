export * from './entry';
export * from './chain';
export * from './projection';
export * from './audit.module';
