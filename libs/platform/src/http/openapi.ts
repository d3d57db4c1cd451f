import { INestApplication, RequestMethod, applyDecorators } from '@nestjs/common';
import { METHOD_METADATA, PATH_METADATA } from '@nestjs/common/constants';
import { MetadataScanner, ModulesContainer, Reflector } from '@nestjs/core';
import { ApiResponse, DocumentBuilder, OpenAPIObject, SwaggerModule } from '@nestjs/swagger';
import type { Permission } from '@purser/core';
import { PUBLIC_ROUTE, REQUIRED_PERMISSION } from './auth';
import { ApiSchemas, CORRELATION_PATTERN, IF_MATCH_PATTERN } from './dto';
import { ID_PATTERN } from './ids';

/**
 * The OpenAPI document is the contract: every operation's parameters, bodies, success and error responses, with
 * the validators' own patterns. Routes declare what is theirs (`@ApiErrors(404, 409)`, response schemas); the
 * builder adds what every route shares (400, 401, 403, 404, 500; 503 where a query waits for `minPosition`; 413 and
 * 415 where a body is read), the security of each operation and the canonical header parameters.
 *
 * Openness is read from the route metadata (@Public() / @Requires, as the guard reads it), never from the path:
 * a public operation declares `security: []`, every other one the bearer scheme and its 401, 403 and 404.
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
  401: 'No credential, or not a valid one (expired, revoked, unknown): send `Authorization: Bearer <access token | API key | break-glass token>`',
  403: "The caller may not do this: the route's permission is not granted (an org outside the caller's answers 404, never 403)",
  404: "Unknown org, team, user, quota or reservation (details name which); another tenant's org answers the same 404",
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

/** What a public operation with a body answers when the secret it reads is wrong (password, token, code). */
const PUBLIC_401 = 'The credential in the body (password, token or code) is wrong, expired or already used';

/** The error statuses a route answers beyond the ones every route shares (400, 401, 403, 404, 500; 503 with minPosition). */
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

/** One route of the app as its controller declares it (the guard reads the same metadata). */
export interface DeclaredRoute {
  /** `<Controller>_<method>`: the operation id @nestjs/swagger gives it. */
  operationId: string;
  method: string;
  /** Nest's path, `:param` style. */
  path: string;
  open: boolean;
  permission: Permission | undefined;
}

/** Every route of the app's controllers, with its openness and permission (handler metadata over class metadata). */
export function declaredRoutes(app: INestApplication): DeclaredRoute[] {
  const reflector = new Reflector();
  const scanner = new MetadataScanner();
  const routes: DeclaredRoute[] = [];
  const seen = new Set<object>();
  for (const mod of app.get(ModulesContainer).values()) {
    for (const wrapper of mod.controllers.values()) {
      const type = wrapper.metatype as (new (...args: never[]) => object) | null;
      if (!type || seen.has(type)) continue;
      seen.add(type);
      const base = String(Reflect.getMetadata(PATH_METADATA, type) ?? '');
      for (const name of scanner.getAllMethodNames(type.prototype)) {
        const handler = (type.prototype as Record<string, unknown>)[name] as (...args: never[]) => unknown;
        const path = Reflect.getMetadata(PATH_METADATA, handler) as string | string[] | undefined;
        if (path === undefined) continue;
        const targets = [handler, type];
        for (const one of Array.isArray(path) ? path : [path]) {
          routes.push({
            operationId: `${type.name}_${name}`,
            method: RequestMethod[Reflect.getMetadata(METHOD_METADATA, handler) as number],
            path: `/${[base, String(one)].filter((p) => p && p !== '/').join('/')}`.replace(/\/+/g, '/'),
            open: reflector.getAllAndOverride<boolean>(PUBLIC_ROUTE, targets) === true,
            permission: reflector.getAllAndOverride<Permission>(REQUIRED_PERMISSION, targets),
          });
        }
      }
    }
  }
  return routes;
}

/** Whether each operation id is public, from the routes' metadata (two controllers of one name must agree). */
function openness(routes: DeclaredRoute[]): Map<string, boolean> {
  const open = new Map<string, boolean>();
  for (const r of routes) {
    if (open.has(r.operationId) && open.get(r.operationId) !== r.open)
      throw new Error(
        `operation ${r.operationId} is declared both public and guarded (two controllers of one name?)`,
      );
    open.set(r.operationId, r.open);
  }
  return open;
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
          'Every error answers the one shape `ErrorBody`. Money is a decimal string with its currency, never a number. ' +
          'Every operation but the public ones (health, metrics, setup, sign-in, refresh, JWKS, docs) needs a credential.',
      )
      .setVersion('v1')
      .addBearerAuth(
        {
          type: 'http',
          scheme: 'bearer',
          bearerFormat: 'JWT access token | API key prk_... | break-glass token',
          description:
            '`Authorization: Bearer <credential>`, one of: an access token (a JWT from POST /v1/auth/login, ' +
            '/v1/auth/refresh or /v1/setup; 15 minutes), an API key (`prk_<keyId>_<secret>`), or the break-glass ' +
            'PURSER_ADMIN_TOKEN (instance administrator, for recovery). A principal acts in its own org only: ' +
            "another org's routes answer 404, as for an org that does not exist.",
        },
        'bearer',
      )
      .build(),
  );
  return completeDocument(doc, openness(declaredRoutes(app)));
}

/** Mounts Swagger UI at /docs and the document at /openapi.json and /openapi.yaml. */
export function setupOpenApi(app: INestApplication, title?: string): OpenAPIObject {
  const doc = buildOpenApiDocument(app, title);
  SwaggerModule.setup('docs', app, doc, { jsonDocumentUrl: 'openapi.json', yamlDocumentUrl: 'openapi.yaml' });
  return doc;
}

/**
 * Completes the document: `open` says which operation ids are public (from the route metadata); an operation it
 * does not name is guarded (the guard refuses a route that declares nothing).
 */
export function completeDocument(doc: OpenAPIObject, open: ReadonlyMap<string, boolean>): OpenAPIObject {
  doc.components ??= {};
  doc.components.schemas = {
    ...(doc.components.schemas ?? {}),
    ErrorBody: ERROR_BODY_SCHEMA,
    ...Object.fromEntries(registry),
  } as never;
  // The default for an operation that says nothing; every operation below says which it is.
  doc.security = [{ bearer: [] }];
  for (const item of Object.values(doc.paths)) {
    for (const method of METHODS) {
      const op = (item as Record<string, any>)[method];
      if (!op) continue;
      const isPublic = open.get(op.operationId) === true;
      // Public operations with a body are commands (setup, sign-in, refresh): they take a correlation id too.
      const command = !!op.requestBody;
      op.parameters = canonicalParameters(op.parameters ?? [], !isPublic || command);
      op.security = isPublic ? [] : [{ bearer: [] }];
      const responses: Record<string, any> = op.responses ?? {};
      const shared: Array<[number, string?]> = [];
      if (!isPublic) {
        shared.push([400], [401], [403], [500]);
        // An org, team, user... named in the path or the body: unknown, or outside the caller's org.
        if (command || op.parameters.some((p: Parameter) => p.in === 'path')) shared.push([404]);
        if (op.parameters.some((p: Parameter) => p.in === 'query' && p.name === 'minPosition'))
          shared.push([503]);
      } else if (command) {
        shared.push([400], [401, PUBLIC_401], [500]);
      }
      if (command && shared.length) shared.push([413], [415]);
      for (const [status, description] of shared) responses[status] ??= errorResponse(status, description);
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
 * decorators said; every guarded operation and every public command takes an optional X-Correlation-Id.
 */
function canonicalParameters(params: Parameter[], correlated: boolean): Parameter[] {
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
  if (correlated) {
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
