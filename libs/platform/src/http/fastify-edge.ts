import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { errorBody } from './errors.filter';
import { parseJsonBody } from './json-body';

/**
 * Fastify's side of the edge: every refusal Fastify makes itself comes in the one error shape, bodies are parsed by
 * parseJsonBody, and a known path asked with a method it does not serve answers 405 with Allow.
 */

/** Longer than any id (ids are at most 64 characters, so a longer one gets the id's 400, not a router refusal). */
export const MAX_PARAM_LENGTH = 1024;

const METHODS = ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS'] as const;

/** Refusals Fastify makes before routing (a malformed URL, an over-long path parameter), in the one shape. */
export function frameworkErrors(error: Error & { code?: string }, _req: FastifyRequest, reply: FastifyReply) {
  const body =
    error.code === 'FST_ERR_MAX_PARAM_LENGTH'
      ? errorBody(400, `a path parameter is longer than ${MAX_PARAM_LENGTH} characters`, [
          { field: 'path', problem: `parameter longer than ${MAX_PARAM_LENGTH} characters` },
        ])
      : error.code === 'FST_ERR_BAD_URL'
        ? errorBody(400, 'the URL is malformed (a bad percent-encoding)', [
            { field: 'path', problem: 'malformed' },
          ])
        : errorBody(500, 'internal error');
  void reply.code(body.statusCode).header('content-type', 'application/json; charset=utf-8').send(body);
}

/** Options for the FastifyAdapter that the edge needs. */
export const FASTIFY_EDGE_OPTIONS = {
  routerOptions: { maxParamLength: MAX_PARAM_LENGTH },
  frameworkErrors,
} as const;

export function installFastifyEdge(fastify: FastifyInstance): void {
  fastify.removeContentTypeParser('application/json');
  fastify.addContentTypeParser('application/json', { parseAs: 'buffer' }, (_req, body, done) => {
    try {
      done(null, parseJsonBody(body as Buffer));
    } catch (err) {
      done(err as Error, undefined);
    }
  });

  // A request no route matches: 405 with Allow when the path is served for other methods (else Nest's 404).
  fastify.addHook('onRequest', async (req, reply) => {
    if (!req.is404) return;
    const path = req.url.split('?', 1)[0];
    const allow = METHODS.filter(
      (method) => method !== req.method && fastify.findRoute({ method, url: path }),
    );
    if (!allow.length) return;
    await reply
      .code(405)
      .header('allow', allow.join(', '))
      .header('content-type', 'application/json; charset=utf-8')
      .send(
        errorBody(405, `${req.method} is not allowed on ${path}; allowed: ${allow.join(', ')}`, [
          { field: 'method', problem: 'not allowed', allowed: allow },
        ]),
      );
    return reply;
  });
}
