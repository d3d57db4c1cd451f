import { NestFastifyApplication } from '@nestjs/platform-fastify';
import { createHttpApp, createLogger, PurserConfig, PurserLogger } from '@purser/platform';
import { closeEngines, createEngines, createMailer } from '@purser/engines';
import { OrgServerModule } from './app.module';

export interface RunningServer {
  app: NestFastifyApplication;
  url: string;
  close(): Promise<void>;
}

/** Starts the org server on the configured port (0 picks a free one). Used by main.ts, the tests and the benches. */
export async function startOrgServer(config: PurserConfig, logger?: PurserLogger): Promise<RunningServer> {
  const log = logger ?? createLogger(config.logLevel, { app: 'org-server' });
  const engines = await createEngines(config, log);
  const mailer = await createMailer(config.access, log);
  const runProjections = config.projections === 'in-process';
  let app: NestFastifyApplication;
  try {
    app = await createHttpApp(
      OrgServerModule.forRoot({ config, logger: log, engines, runProjections, mailer }),
      { config, logger: log },
    );
    await app.listen(config.port, config.host);
  } catch (err) {
    await mailer.close().catch(() => undefined);
    await closeEngines(engines).catch(() => undefined);
    throw err;
  }
  const address = app.getHttpServer().address();
  const port = typeof address === 'object' && address ? address.port : config.port;
  const host = config.host === '0.0.0.0' ? '127.0.0.1' : config.host;
  if (config.adminToken) {
    log.warn(
      {},
      'PURSER_ADMIN_TOKEN is set: it is a break-glass credential (instance administrator in every org); unset it once an administrator can sign in',
    );
  }
  log.info(
    { url: `http://${host}:${port}`, docs: `http://${host}:${port}/docs`, runProjections },
    'org server listening',
  );
  let closed = false;
  return {
    app,
    url: `http://${host}:${port}`,
    async close() {
      if (closed) return;
      closed = true;
      await app.close();
      await mailer.close();
      await closeEngines(engines);
    },
  };
}
