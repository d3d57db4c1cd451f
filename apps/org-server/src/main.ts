import 'reflect-metadata';
import { configOrExit, createLogger, runMain, stopOnSignals } from '@purser/platform';
import { startOrgServer } from './server';

runMain('purser', async () => {
  const config = configOrExit('purser');
  const logger = createLogger(config.logLevel, { app: 'org-server' }, { format: config.logFormat });
  const server = await startOrgServer(config, logger);
  stopOnSignals(logger, 'shutting down', () => server.close());
});
