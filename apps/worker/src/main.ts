import 'reflect-metadata';
import { ConfigError, createHttpApp, createLogger, loadConfig } from '@purser/platform';
import { closeEngines, createEngines } from '@purser/engines';
import { WorkerModule } from './worker.module';

async function main(): Promise<void> {
  let config;
  try {
    config = loadConfig();
  } catch (err) {
    if (err instanceof ConfigError) {
      console.error(`purser-worker: ${err.message}`);
      process.exit(2);
    }
    throw err;
  }
  const logger = createLogger(config.logLevel, { app: 'worker' }, { format: config.logFormat });
  const engines = await createEngines(config, logger);
  const app = await createHttpApp(WorkerModule.forRoot({ config, logger, engines, http: true }), {
    config,
    logger,
    title: 'Purser worker',
  });
  await app.listen(config.workerPort, config.host);
  logger.info({ port: config.workerPort }, 'worker running projections; /health and /metrics served');
  let stopping = false;
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.once(signal, () => {
      if (stopping) return;
      stopping = true;
      logger.info({ signal }, 'worker shutting down');
      app
        .close()
        .then(() => closeEngines(engines))
        .then(
          () => process.exit(0),
          () => process.exit(1),
        );
    });
  }
}

main().catch((err) => {
  console.error(`purser-worker: failed to start: ${(err as Error).stack ?? err}`);
  process.exit(1);
});
