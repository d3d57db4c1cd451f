import { INestApplication } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { FastifyAdapter, NestFastifyApplication } from '@nestjs/platform-fastify';
import { randomUUID } from 'node:crypto';
import { PurserConfig } from '../config';
import { NestPinoLogger, PurserLogger } from '../logger';
import { Metrics } from '../metrics';
import { ActorGuard } from './context';
import { ErrorFilter } from './errors.filter';
import { FASTIFY_EDGE_OPTIONS, installFastifyEdge } from './fastify-edge';
import { ReadYourWritesInterceptor } from './reads';
import { createValidationPipe } from './validation';
import { setupOpenApi } from './openapi';

export interface HttpAppOptions {
  config: PurserConfig;
  logger: PurserLogger;
  title?: string;
}

/**
 * Builds the HTTP application: Fastify (chosen for its throughput and low per-request overhead on the hot
 * paths: usage ingest and quota checks), validation at the edge, one error shape, request logs, metrics,
 * OpenAPI at /openapi.json and Swagger UI at /docs.
 */
export async function createHttpApp(
  rootModule: unknown,
  options: HttpAppOptions,
): Promise<NestFastifyApplication> {
  const { logger } = options;
  const adapter = new FastifyAdapter({
    bodyLimit: 16 * 1024 * 1024,
    ...FASTIFY_EDGE_OPTIONS,
    genReqId: (req: { headers: Record<string, string | string[] | undefined> }) => {
      const given = req.headers['x-request-id'];
      return typeof given === 'string' && /^[A-Za-z0-9._:-]{1,128}$/.test(given) ? given : randomUUID();
    },
  });
  const app = await NestFactory.create<NestFastifyApplication>(rootModule as any, adapter, {
    logger: new NestPinoLogger(logger),
    bufferLogs: false,
  });
  app.useGlobalPipes(createValidationPipe());
  app.useGlobalFilters(new ErrorFilter(logger));
  app.useGlobalGuards(app.get(ActorGuard));
  app.useGlobalInterceptors(app.get(ReadYourWritesInterceptor));

  const metrics = app.get(Metrics);
  const fastify = app.getHttpAdapter().getInstance();
  fastify.addHook('onSend', async (req, reply) => {
    reply.header('x-request-id', req.id);
  });
  fastify.addHook('onResponse', async (req, reply) => {
    const route = req.routeOptions?.url ?? 'unmatched';
    const seconds = reply.elapsedTime / 1000;
    metrics.httpDuration.observe({ method: req.method, route, status: String(reply.statusCode) }, seconds);
    // Not logged: probes and scrapes, and Swagger UI's static assets (/docs/*) unless they fail.
    const docsAsset = route.startsWith('/docs/') && reply.statusCode < 400;
    if (route !== '/metrics' && route !== '/health' && route !== '/livez' && !docsAsset) {
      logger.info(
        {
          reqId: req.id,
          method: req.method,
          route,
          status: reply.statusCode,
          ms: Math.round(reply.elapsedTime * 100) / 100,
        },
        'request',
      );
    }
  });

  setupOpenApi(app, options.title);

  // Nest registers its body parsers at init: initialise here so that the edge's JSON parser can take their place.
  await app.init();
  installFastifyEdge(fastify);
  return app;
}

export type { INestApplication };
