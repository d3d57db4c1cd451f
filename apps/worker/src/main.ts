import 'reflect-metadata';
import { configOrExit, createHttpApp, createLogger, runMain, stopOnSignals } from '@purser/platform';
import { closeEngines, createEngines } from '@purser/engines';
import { WorkerModule } from './worker.module';

runMain('purser-worker', async () => {
  const config = configOrExit('purser-worker');
  const logger = createLogger(config.logLevel, { app: 'worker' }, { format: config.logFormat });
  const engines = await createEngines(config, logger);
  const app = await createHttpApp(WorkerModule.forRoot({ config, logger, engines, http: true }), {
    config,
    logger,
    title: 'Purser worker',
  });
  await app.listen(config.workerPort, config.host);
  logger.info({ port: config.workerPort }, 'worker running projections; /health and /metrics served');
  stopOnSignals(logger, 'worker shutting down', () => app.close().then(() => closeEngines(engines)));
});
