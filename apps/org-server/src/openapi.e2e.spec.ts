import fc from 'fast-check';
import { TestServer, apiClient, startTestServer } from '@purser/testkit';
import { Contract, OpenApiDoc, contractOf } from '@purser/testkit';
import { arbitraryOf, resolve } from '@purser/testkit';

/**
 * Rules beyond what a schema can say, stated in the operations' descriptions: a generated request may break them
 * and get a 400 naming the rule. Any other 400 for a schema-valid request is a document that lies.
 */
const RULES_BEYOND_THE_SCHEMA = [
  /^invalid cursor$/, // cursors are opaque: only a nextCursor is one
  /^occurredAt is (before 2000-01-01|more than 5 minutes in the future)$/,
  /^itemId needs itemType$/,
  // Month lengths are in the date pattern; 29 February of a common year is the one calendar rule beyond it.
  /^(from|to|asOf|occurredAt|effectiveFrom) is not a real date and time/,
  /^to must be after from$/,
  /^an? \w+ report covers at most \d+ days$/,
  /^a (tokens|requests) limit must be a whole number$/,
];

/** The OpenAPI document is the contract: complete, consistent, and not stricter or looser than the validators. */
describe('the OpenAPI document', () => {
  let server: TestServer;
  let doc: OpenApiDoc;
  let contract: Contract;
  const operations: Array<{ method: string; path: string; op: any }> = [];

  beforeAll(async () => {
    // Generated minPositions lie in the future: answer their 503 quickly.
    server = await startTestServer({ env: { PURSER_MIN_POSITION_TIMEOUT_MS: '20' } });
    contract = await contractOf(server.url);
    doc = contract.doc;
    for (const [path, item] of Object.entries(doc.paths))
      for (const [method, op] of Object.entries<any>(item)) operations.push({ method, path, op });
  });
  afterAll(async () => {
    await server.stop();
    server.cleanup();
  });

  it('gives every operation a success response, and every /v1 operation the shared errors in the one shape', () => {
    expect(operations.length).toBeGreaterThan(30);
    for (const { method, path, op } of operations) {
      const name = `${method} ${path}`;
      const statuses = Object.keys(op.responses);
      expect({ name, success: statuses.some((s) => /^2\d\d$/.test(s)) }).toEqual({ name, success: true });
      if (!path.startsWith('/v1')) continue;
      // Public /v1 operations (setup, sign-in, refresh, MFA and reset steps) take no credential: security [].
      const open = /^\/v1\/(setup|auth\/(login|refresh|mfa|password-reset))/.test(path);
      const shared = open ? ['400', '500'] : ['400', '401', '403', '500'];
      if (op.parameters?.some((p: any) => p.name === 'minPosition')) shared.push('503');
      for (const s of shared) {
        expect({ name, s, ref: op.responses[s]?.content?.['application/json']?.schema?.$ref }).toEqual({
          name,
          s,
          ref: '#/components/schemas/ErrorBody',
        });
      }
      expect({ name, security: op.security }).toEqual({ name, security: open ? [] : [{ bearer: [] }] });
    }
    expect(doc.paths['/health'].get.security).toEqual([]);
  });

  it('declares each parameter once, every path parameter of the template, and resolves every $ref', () => {
    for (const { method, path, op } of operations) {
      const keys = (op.parameters ?? []).map((p: any) => `${p.in}:${p.name.toLowerCase()}`);
      expect({ op: `${method} ${path}`, keys }).toEqual({
        op: `${method} ${path}`,
        keys: [...new Set(keys)],
      });
      for (const [, name] of path.matchAll(/\{([^}]+)\}/g))
        expect(op.parameters.some((p: any) => p.in === 'path' && p.name === name && p.required)).toBe(true);
    }
    const refs: string[] = [];
    const walk = (v: unknown): void => {
      if (Array.isArray(v)) v.forEach(walk);
      else if (v && typeof v === 'object')
        for (const [k, x] of Object.entries(v)) {
          if (k === '$ref') refs.push(x as string);
          else walk(x);
        }
    };
    walk(doc);
    expect(refs.length).toBeGreaterThan(20);
    for (const ref of refs) expect(() => resolve(doc, ref)).not.toThrow();
    // every schema compiles
    for (const name of Object.keys(doc.components!.schemas!))
      contract.validator({ $ref: `#/components/schemas/${name}` });
  });

  it('answers POST /v1/usage as documented: a single recorded event 201, a batch 200', () => {
    const usage = doc.paths['/v1/usage'].post as any;
    expect(Object.keys(usage.responses)).toEqual(expect.arrayContaining(['200', '201', '400', '422']));
    expect(usage.requestBody.content['application/json'].schema.$ref).toBe(
      '#/components/schemas/UsageRequest',
    );
    expect(doc.paths['/v1/orgs/{orgId}/exchange-rates'].get.parameters).toContainEqual(
      expect.objectContaining({ name: 'minPosition', required: false }),
    );
  });

  it('does not refuse with 400, nor fail with 500, a request that the document says is valid', async () => {
    // A world to aim at, so that generated requests reach the rules and not only 404.
    const api = server.api;
    const org = (await api.post('/v1/orgs', { name: 'Fuzz Org' })).body.id;
    const team = (await api.post(`/v1/orgs/${org}/teams`, { name: 'Fuzz Team' })).body.id;
    const user = (await api.post(`/v1/orgs/${org}/users`, { username: 'fuzzer', email: 'f@fuzz.test' })).body
      .id;
    const quota = (
      await api.post(`/v1/orgs/${org}/quotas`, {
        entityType: 'Org',
        entityId: org,
        metric: 'requests',
        limit: '5',
      })
    ).body.id;
    const ids: Record<string, string> = { orgId: org, teamId: team, userId: user, quotaId: quota };
    // Generated requests are checked against the document too, without failing on their own (they may be 4xx).
    const raw = apiClient(server.url, { authorization: `Bearer ${server.adminToken}` }, { contract: false });
    const refused: string[] = [];
    let accepted = 0;
    for (const { method, path, op } of operations) {
      if (!path.startsWith('/v1') || method === 'delete') continue; // deletes would empty the world
      const params = (op.parameters ?? []).filter((p: any) => p.in !== 'path');
      const body = op.requestBody?.content?.['application/json']?.schema;
      const request = fc.record({
        params: fc.record(
          Object.fromEntries(params.map((p: any) => [`${p.in}:${p.name}`, arbitraryOf(doc, p.schema ?? {})])),
          { requiredKeys: params.filter((p: any) => p.required).map((p: any) => `${p.in}:${p.name}`) },
        ),
        body: body ? arbitraryOf(doc, body) : fc.constant(undefined),
      });
      for (const sample of fc.sample(request, { numRuns: 12, seed: 42 })) {
        const query = new URLSearchParams();
        const headers: Record<string, string> = {};
        for (const [key, value] of Object.entries<unknown>(sample.params)) {
          const [where, name] = key.split(':');
          if (where === 'query') query.set(name, String(value));
          else headers[name] = String(value);
        }
        const url =
          path.replace(/\{([^}]+)\}/g, (_, n) => ids[n] ?? 'fuzz-id') + (query.size ? `?${query}` : '');
        const res = await raw.raw(method.toUpperCase(), url, sample.body, headers);
        const problems = contract.check({
          method: method.toUpperCase(),
          path: url,
          status: res.status,
          contentType: res.headers.get('content-type'),
          body: res.body,
        });
        if (res.status >= 200 && res.status < 300) accepted++;
        const rule = res.status === 400 && RULES_BEYOND_THE_SCHEMA.some((r) => r.test(res.body?.message));
        if ((res.status === 400 && !rule) || res.status === 500 || problems.length)
          refused.push(
            `${method} ${url} ${JSON.stringify(sample.body)} -> ${res.status} ${JSON.stringify(res.body)} ${problems}`,
          );
      }
    }
    expect(refused).toEqual([]);
    expect(accepted).toBeGreaterThan(50);
  }, 180_000);
});
