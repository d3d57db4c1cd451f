import { TestServer, apiClient, startTestServer } from '@purser/testkit';
import { DeclaredRoute, declaredRoutes } from './openapi';

/**
 * The routes reachable without a credential, and no others. Everything else the running app serves must answer
 * 401 to a call without a credential or with a bad one (the guard, not the route, decides).
 */
const OPEN = [
  /^\/health$/,
  /^\/livez$/,
  /^\/metrics$/,
  /^\/v1\/setup$/,
  /^\/v1\/auth\/login$/,
  /^\/v1\/auth\/refresh$/,
  /^\/v1\/auth\/mfa/,
  /^\/v1\/auth\/password-reset/,
  /^\/\.well-known\/jwks\.json$/,
  /^\/docs/,
  // The document, as JSON and as YAML (the same document: Swagger UI's two links).
  /^\/openapi\.(json|yaml)$/,
];
const allowedOpen = (path: string) => OPEN.some((re) => re.test(path));

interface ServedRoute {
  method: string;
  path: string;
}

/**
 * Every route the running Fastify instance serves, from its own route tree (printRoutes): whatever mounted it (a Nest
 * controller, Swagger UI, a plugin). Each tree line is `<fragment> (<METHODS>)`, four characters of indent a level.
 */
function servedRoutes(server: TestServer): ServedRoute[] {
  const tree = server.app.getHttpAdapter().getInstance().printRoutes({ commonPrefix: false });
  const stack: string[] = [];
  const routes: ServedRoute[] = [];
  for (const line of tree.split('\n')) {
    const start = line.search(/[^│├└─ ]/);
    if (start < 0) continue;
    const depth = Math.floor(start / 4);
    const m = /^(.*?)(?: \(([A-Z, ]+)\))?$/.exec(line.slice(start));
    if (!m) continue;
    stack.length = depth;
    stack.push(m[1]);
    for (const method of (m[2] ?? '')
      .split(',')
      .map((s) => s.trim())
      .filter(Boolean))
      routes.push({ method, path: stack.join('') });
  }
  return routes;
}

/** A concrete URL for a route pattern: each parameter and wildcard becomes `x`. */
const concrete = (path: string) => path.replace(/:(\w+)/g, 'x').replace(/\*/g, 'x');
const key = (r: { method: string; path: string }) => `${r.method} ${r.path}`;

describe('every route declares who may call it, and only the open list answers without a credential', () => {
  let server: TestServer;
  let served: ServedRoute[];
  let declared: DeclaredRoute[];

  beforeAll(async () => {
    server = await startTestServer();
    served = servedRoutes(server);
    declared = declaredRoutes(server.app);
  });
  afterAll(async () => {
    await server?.stop();
    server?.cleanup();
  });

  it('given the running app, when reading its route tree, then it holds every controller route and Swagger UI', () => {
    expect(served.length).toBeGreaterThan(60);
    const servedKeys = new Set(served.map(key));
    expect(declared.map(key).filter((k) => !servedKeys.has(k))).toEqual([]);
    // What no controller declares is Swagger UI's (the page, its assets, the document) or Fastify's HEAD twins.
    const declaredKeys = new Set(declared.map(key));
    const foreign = served.filter((r) => !declaredKeys.has(key(r)) && r.method !== 'HEAD');
    expect(foreign.filter((r) => !/^\/(docs|openapi\.(json|yaml)$)/.test(r.path))).toEqual([]);
  });

  it('given the controllers, when reading their metadata, then each is @Public() or @Requires, and only listed routes are public', () => {
    expect(declared.filter((r) => !r.open && !r.permission)).toEqual([]);
    expect(declared.filter((r) => r.open && !allowedOpen(r.path))).toEqual([]);
    expect(declared.filter((r) => r.open).map(key)).toEqual(
      expect.arrayContaining([
        'GET /health',
        'POST /v1/setup',
        'POST /v1/auth/login',
        'POST /v1/auth/refresh',
      ]),
    );
  });

  it('given the OpenAPI document, when read, then public operations declare security [] and every other bearer with 401, 403 and 404', async () => {
    const doc = (await server.anonymous.get('/openapi.json')).body;
    expect(doc.components.securitySchemes.bearer).toMatchObject({ type: 'http', scheme: 'bearer' });
    const byId = new Map(declared.map((r) => [r.operationId, r]));
    const wrong: string[] = [];
    let operations = 0;
    for (const [path, item] of Object.entries<Record<string, any>>(doc.paths)) {
      for (const [method, op] of Object.entries<any>(item)) {
        operations++;
        const route = byId.get(op.operationId);
        const name = `${method.toUpperCase()} ${path}`;
        if (!route) {
          wrong.push(`${name}: no route declares ${op.operationId}`);
          continue;
        }
        for (const requirement of op.security)
          for (const scheme of Object.keys(requirement))
            if (!doc.components.securitySchemes[scheme]) wrong.push(`${name}: unknown scheme ${scheme}`);
        if (route.open) {
          if (op.security.length !== 0)
            wrong.push(`${name}: public but declares ${JSON.stringify(op.security)}`);
          continue;
        }
        if (JSON.stringify(op.security) !== JSON.stringify([{ bearer: [] }]))
          wrong.push(`${name}: guarded but declares ${JSON.stringify(op.security)}`);
        // 404 wherever the call names something (a path parameter or a body): unknown, or another tenant's.
        const named = path.includes('{') || !!op.requestBody;
        for (const status of named ? ['401', '403', '404'] : ['401', '403'])
          if (!op.responses[status]) wrong.push(`${name}: ${status} undocumented`);
      }
    }
    expect(wrong).toEqual([]);
    // Every controller route is an operation, but /metrics (Prometheus text, left out of the document).
    expect(operations).toBe(declared.filter((r) => r.path !== '/metrics').length);
  });

  it('given no credential or a bad one, when calling every served route but the open list, then 401 in the one error shape', async () => {
    const bad = [
      undefined,
      'Bearer nonsense',
      'Basic YWRtaW46YWRtaW4=',
      'Bearer prk_unknownkey_0123456789abcdef0123456789abcdef',
      'Bearer eyJhbGciOiJFZERTQSIsInR5cCI6ImFjY2VzcyJ9.eyJzdWIiOiJ4Iiwib3JnIjoieCJ9.c2lnbmF0dXJl',
      `Bearer ${server.adminToken}x`,
    ];
    const guarded = served.filter((r) => !allowedOpen(r.path));
    expect(guarded.length).toBeGreaterThan(50);
    const answers: string[] = [];
    for (const r of guarded) {
      for (const authorization of bad) {
        const client = apiClient(server.url, authorization ? { authorization } : {});
        const withBody = !['GET', 'HEAD', 'DELETE'].includes(r.method);
        const res = await client.raw(r.method, concrete(r.path), withBody ? {} : undefined);
        // HEAD answers have no body to hold the error shape.
        const shaped = r.method === 'HEAD' || res.body?.statusCode === 401;
        if (res.status !== 401 || !shaped) answers.push(`${key(r)} [${authorization}] -> ${res.status}`);
      }
    }
    expect(answers).toEqual([]);
  });

  it('given no credential, when calling the open routes, then they answer (never 401, 403 or 5xx)', async () => {
    const open = served.filter((r) => allowedOpen(r.path) && r.method !== 'HEAD');
    const refused: string[] = [];
    for (const r of open) {
      const withBody = !['GET', 'DELETE'].includes(r.method);
      const res = await server.anonymous.raw(r.method, concrete(r.path), withBody ? {} : undefined);
      if (res.status === 401 || res.status === 403 || res.status >= 500)
        refused.push(`${key(r)} -> ${res.status}`);
    }
    expect(refused).toEqual([]);
    for (const path of ['/health', '/livez', '/metrics', '/.well-known/jwks.json', '/docs', '/openapi.json'])
      expect({ path, status: (await server.anonymous.get(path)).status }).toEqual({ path, status: 200 });
  });
});
