import { INestApplication, applyDecorators } from '@nestjs/common';
import { ApiResponse, DocumentBuilder, OpenAPIObject, SwaggerModule } from '@nestjs/swagger';
import { ApiSchemas, CORRELATION_PATTERN, IF_MATCH_PATTERN } from './dto';
import { ID_PATTERN } from './ids';

/**
 * The OpenAPI document is the contract: every operation's parameters, bodies, success and error responses, with
 * the validators' own patterns. Routes declare what is theirs (`@ApiErrors(404, 409)`, response schemas); the
 * builder adds what every route shares (400, 401, 403, 500; 503 where a query waits for `minPosition`; 413 and 415
 * where a body is read), the security of each operation and the canonical header parameters.
 */

type Schema = Record<string, unknown>;

const ERROR_REF = '#/components/schemas/ErrorBody';

/** The one error shape (errors.filter.ts). */
export const ERROR_BODY_SCHEMA: Schema = {
  type: 'object',
  required: ['statusCode', 'error', 'message', 'details'],
  properties: {
    statusCode: { type: 'integer', minimum: 400, maximum: 599, example: 404 },
    error: { type: 'string', example: 'Not Found' },
    message: { type: 'string', example: 'org acme not found' },
    details: {
      type: 'array',
      description:
        'The fields at fault; a detail may carry more facts (quotaId, expected, actual, count, ...)',
      items: {
        type: 'object',
        required: ['field', 'problem'],
        properties: { field: { type: 'string' }, problem: { type: 'string' } },
      },
    },
  },
};

const ERROR_DESCRIPTIONS: Record<number, string> = {
  400: 'Bad input: malformed JSON, a field or parameter that breaks its schema (details name each one)',
  401: 'Missing or wrong bearer token (when the server requires one)',
  403: "The caller may not do this: the route's permission is not granted in this org",
  404: 'Unknown org, team, user, quota or reservation (details name which)',
  409: 'Conflict: a duplicate, a stale If-Match revision or a state that forbids it',
  413: 'Body too large (16 MiB)',
  415: 'Unsupported media type (send application/json)',
  422: 'Well formed, but refused by a rule (details say which)',
  429: 'Refused by a limit',
  500: 'Internal error (logged; nothing was changed)',
  503: 'The read models did not reach `minPosition` in time, or an engine is unavailable; retry later',
};

export function errorResponse(status: number, description = ERROR_DESCRIPTIONS[status] ?? 'Error') {
  return { description, content: { 'application/json': { schema: { $ref: ERROR_REF } } } };
}

/** The error statuses a route answers beyond the ones every route shares (400, 401, 403, 500; 503 with minPosition). */
export function ApiErrors(...statuses: number[]): MethodDecorator & ClassDecorator {
  return applyDecorators(
    ...statuses.map((status) =>
      ApiResponse({
        status,
        description: ERROR_DESCRIPTIONS[status] ?? 'Error',
        schema: { $ref: ERROR_REF },
      }),
    ),
  );
}

const registry = new Map<string, Schema>();

/** Named schemas of a context (responses, hand-validated bodies), added to the document's components. */
export function registerApiSchemas(schemas: Record<string, Schema>): void {
  for (const [name, schema] of Object.entries(schemas)) registry.set(name, schema);
}

/** A reference to a registered schema (or to ErrorBody). */
export function apiRef(name: string): { $ref: string } {
  return { $ref: `#/components/schemas/${name}` };
}

const METHODS = ['get', 'put', 'post', 'delete', 'patch', 'head', 'options'] as const;

interface Parameter {
  name: string;
  in: string;
  required?: boolean;
  description?: string;
  schema?: Schema;
}

/** Builds the document from the app's routes and completes it (see the file comment). */
export function buildOpenApiDocument(app: INestApplication, title = 'Purser org server'): OpenAPIObject {
  const doc = SwaggerModule.createDocument(
    app,
    new DocumentBuilder()
      .setTitle(title)
      .setDescription(
        'Orgs, teams and users; who may do what; what was spent and what may still be spent. ' +
          'Commands answer with the `position` of their last event; queries accept `?minPosition=` to read their own writes. ' +
          'Every error answers the one shape `ErrorBody`. Money is a decimal string with its currency, never a number.',
      )
      .setVersion('v1')
      .addBearerAuth(
        {
          type: 'http',
          scheme: 'bearer',
          description:
            '`Authorization: Bearer <token>`: the PURSER_ADMIN_TOKEN (later an API key or a session token). ' +
            'When the server runs without PURSER_ADMIN_TOKEN (development), /v1 accepts calls without it.',
        },
        'bearer',
      )
      .build(),
  );
  return completeDocument(doc);
}

/** Mounts Swagger UI at /docs and the document at /openapi.json and /openapi.yaml. */
export function setupOpenApi(app: INestApplication, title?: string): OpenAPIObject {
  const doc = buildOpenApiDocument(app, title);
  SwaggerModule.setup('docs', app, doc, { jsonDocumentUrl: 'openapi.json', yamlDocumentUrl: 'openapi.yaml' });
  return doc;
}

export function completeDocument(doc: OpenAPIObject): OpenAPIObject {
  doc.components ??= {};
  doc.components.schemas = {
    ...(doc.components.schemas ?? {}),
    ErrorBody: ERROR_BODY_SCHEMA,
    ...Object.fromEntries(registry),
  } as never;
  for (const [path, item] of Object.entries(doc.paths)) {
    const open = !path.startsWith('/v1');
    for (const method of METHODS) {
      const op = (item as Record<string, any>)[method];
      if (!op) continue;
      op.parameters = canonicalParameters(op.parameters ?? [], open);
      op.security = open ? [] : [{ bearer: [] }];
      const responses: Record<string, any> = op.responses ?? {};
      if (!open) {
        const shared = [400, 401, 403, 500];
        if (op.parameters.some((p: Parameter) => p.in === 'query' && p.name === 'minPosition'))
          shared.push(503);
        if (op.requestBody) shared.push(413, 415);
        for (const status of shared) responses[status] ??= errorResponse(status);
      }
      // An operation whose body may be omitted (every field optional) does not require one.
      const body = op.requestBody?.content?.['application/json']?.schema;
      if (op.requestBody && body && bodyMayBeOmitted(doc, body)) op.requestBody.required = false;
      op.responses = sortResponses(responses);
    }
  }
  return doc;
}

/**
 * Path ids carry the id pattern; If-Match is declared once (optional, with its pattern) whatever the route's
 * decorators said; every /v1 operation takes an optional X-Correlation-Id.
 */
function canonicalParameters(params: Parameter[], open: boolean): Parameter[] {
  const out: Parameter[] = [];
  let ifMatch = false;
  for (const p of params) {
    if (p.in === 'header' && p.name.toLowerCase() === 'if-match') {
      ifMatch = true;
      continue;
    }
    if (p.in === 'header' && p.name.toLowerCase() === 'x-correlation-id') continue;
    if (p.in === 'path') {
      out.push({
        ...p,
        required: true,
        schema: { type: 'string', pattern: ID_PATTERN.source },
        description: p.description ?? '1-64 characters of [A-Za-z0-9_-]',
      });
      continue;
    }
    if (out.some((q) => q.in === p.in && q.name.toLowerCase() === p.name.toLowerCase())) continue;
    out.push(p);
  }
  if (ifMatch) {
    out.push({
      name: 'If-Match',
      in: 'header',
      required: false,
      description: 'The revision you read (3, "3" or W/"3"); a stale one is refused with 409',
      schema: { type: 'string', pattern: IF_MATCH_PATTERN.source },
    });
  }
  if (!open) {
    out.push({
      name: 'X-Correlation-Id',
      in: 'header',
      required: false,
      description: 'Carried into the events this request causes (a new one when omitted)',
      schema: { ...ApiSchemas.correlationId, pattern: CORRELATION_PATTERN.source },
    });
  }
  return out;
}

function bodyMayBeOmitted(doc: OpenAPIObject, schema: Schema): boolean {
  const ref = typeof schema.$ref === 'string' ? schema.$ref : null;
  const resolved = ref ? (doc.components?.schemas?.[ref.split('/').pop()!] as Schema | undefined) : schema;
  return (
    !!resolved &&
    resolved.type === 'object' &&
    !(resolved.required as string[] | undefined)?.length &&
    resolved['x-body-required'] !== true
  );
}

function sortResponses(responses: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(responses).sort(([a], [b]) => a.localeCompare(b)));
}
