import Ajv, { ValidateFunction } from 'ajv';
import addFormats from 'ajv-formats';

/**
 * The OpenAPI document as a test oracle: every response an e2e suite receives must be documented for its operation
 * and status, and match the documented schema; a request the server accepted (2xx) must match the documented body
 * schema. A mismatch throws, failing the test that made the request.
 */
export type OpenApiDoc = {
  paths: Record<string, Record<string, Operation>>;
  components?: { schemas?: Record<string, unknown> };
};
export interface Operation {
  operationId?: string;
  parameters?: Array<{ name: string; in: string; required?: boolean; schema?: Record<string, unknown> }>;
  requestBody?: { required?: boolean; content?: Record<string, { schema?: unknown }> };
  responses: Record<string, { content?: Record<string, { schema?: unknown }> }>;
  security?: unknown[];
}

const METHODS = ['get', 'put', 'post', 'delete', 'patch'];

export class Contract {
  private readonly ajv: Ajv;
  private readonly routes: Array<{ method: string; template: string; regex: RegExp; op: Operation }>;
  private readonly compiled = new Map<string, ValidateFunction>();

  constructor(readonly doc: OpenApiDoc) {
    this.ajv = new Ajv({ strict: false, allErrors: true });
    addFormats(this.ajv);
    this.ajv.addSchema({ $id: 'openapi', components: rewriteRefs(doc.components ?? {}) });
    this.routes = [];
    for (const [template, item] of Object.entries(doc.paths)) {
      const regex = new RegExp(
        '^' + template.replace(/[.*+?^$()|[\]\\]/g, '\\$&').replace(/\{[^}]+\}/g, '[^/]+') + '$',
      );
      for (const method of METHODS) {
        if (item[method]) this.routes.push({ method, template, regex, op: item[method] });
      }
    }
    // Literal paths before templated ones (/usage-records.csv before /{id}).
    this.routes.sort((a, b) => literalLength(b.template) - literalLength(a.template));
  }

  find(method: string, url: string): { template: string; op: Operation } | undefined {
    const path = url.split('?')[0];
    let decoded = path;
    try {
      decoded = decodeURI(path);
    } catch {
      /* keep it */
    }
    const m = method.toLowerCase();
    return this.routes.find((r) => r.method === m && (r.regex.test(path) || r.regex.test(decoded)));
  }

  validator(schema: unknown): ValidateFunction {
    const key = JSON.stringify(schema);
    let v = this.compiled.get(key);
    if (!v) {
      v = this.ajv.compile(rewriteRefs(schema) as object);
      this.compiled.set(key, v);
    }
    return v;
  }

  /** The problems of one exchange (empty when it matches the document). */
  check(exchange: {
    method: string;
    path: string;
    requestBody?: unknown;
    status: number;
    contentType: string | null;
    body: unknown;
  }): string[] {
    const found = this.find(exchange.method, exchange.path);
    if (!found) return []; // not an operation (unknown route): nothing documented to compare with
    const { template, op } = found;
    const name = `${exchange.method} ${template} -> ${exchange.status}`;
    const response = op.responses[String(exchange.status)];
    if (!response) return [`${name}: status not documented (documented: ${Object.keys(op.responses)})`];
    const problems: string[] = [];
    const media = (exchange.contentType ?? '').split(';')[0].trim();
    if (response.content) {
      const documented = response.content[media];
      if (!documented) {
        problems.push(`${name}: content-type ${media || '(none)'} not documented`);
      } else if (documented.schema && media === 'application/json') {
        const v = this.validator(documented.schema);
        if (!v(exchange.body)) problems.push(`${name}: response body ${describe(v)}`);
      }
    }
    const requestSchema = op.requestBody?.content?.['application/json']?.schema;
    if (
      exchange.status >= 200 &&
      exchange.status < 300 &&
      requestSchema &&
      exchange.requestBody !== undefined &&
      !reportsRejections(exchange.body)
    ) {
      let sent: unknown = exchange.requestBody;
      if (typeof sent === 'string') {
        try {
          sent = JSON.parse(sent);
        } catch {
          sent = undefined;
        }
      }
      const v = this.validator(requestSchema);
      if (sent !== undefined && !v(sent))
        problems.push(`${name}: the server accepted a request body the document refuses: ${describe(v)}`);
    }
    return problems;
  }
}

/** A batch answers 200 while rejecting some of its items: those items need not match the schema. */
function reportsRejections(body: unknown): boolean {
  return typeof body === 'object' && body !== null && Number((body as { rejected?: unknown }).rejected) > 0;
}

function literalLength(template: string): number {
  return template.replace(/\{[^}]+\}/g, '').length;
}

function describe(v: ValidateFunction): string {
  return (v.errors ?? [])
    .slice(0, 5)
    .map((e) => `${e.instancePath || '/'} ${e.message}${e.params ? ' ' + JSON.stringify(e.params) : ''}`)
    .join('; ');
}

function rewriteRefs(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(rewriteRefs);
  if (value && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) {
      out[k] = k === '$ref' && typeof v === 'string' && v.startsWith('#/') ? `openapi${v}` : rewriteRefs(v);
    }
    return out;
  }
  return value;
}

const contracts = new Map<string, Promise<Contract>>();

/** The document the server at `base` serves, compiled once per server. */
export function contractOf(base: string): Promise<Contract> {
  let c = contracts.get(base);
  if (!c) {
    c = fetch(`${base}/openapi.json`)
      .then((r) => r.json())
      .then((doc) => new Contract(doc as OpenApiDoc));
    c.catch(() => contracts.delete(base));
    contracts.set(base, c);
  }
  return c;
}
