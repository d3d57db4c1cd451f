import { Agent, request } from 'node:http';
import { bearer } from './auth';

export interface HttpResponse<T = any> {
  status: number;
  body: T;
  /** Client-side latency: request start to the whole body parsed, in ms. */
  ms: number;
}

/**
 * A minimal JSON client over node:http with a keep-alive agent (cheaper per request than fetch). Every request carries
 * `authorization` (the bench's break-glass token by default; an API key's `Bearer prk_...`; null: none).
 */
export class HttpClient {
  private readonly agent: Agent;
  private readonly host: string;
  private readonly port: number;

  constructor(
    baseUrl: string,
    maxSockets: number,
    private readonly authorization: string | null = bearer(),
  ) {
    const url = new URL(baseUrl);
    this.host = url.hostname;
    this.port = Number(url.port);
    this.agent = new Agent({ keepAlive: true, maxSockets, maxFreeSockets: maxSockets });
  }

  get<T = any>(path: string): Promise<HttpResponse<T>> {
    return this.send<T>('GET', path);
  }

  post<T = any>(path: string, body: unknown): Promise<HttpResponse<T>> {
    return this.send<T>('POST', path, body);
  }

  send<T = any>(method: string, path: string, body?: unknown): Promise<HttpResponse<T>> {
    return this.sendRaw<T>(method, path, body === undefined ? undefined : JSON.stringify(body));
  }

  /** POSTs JSON that is already text or bytes (no re-serialization: the client's cost stays off the figures). */
  postRaw<T = any>(path: string, json: string | Buffer): Promise<HttpResponse<T>> {
    return this.sendRaw<T>('POST', path, json);
  }

  private sendRaw<T>(
    method: string,
    path: string,
    payload: string | Buffer | undefined,
  ): Promise<HttpResponse<T>> {
    const started = process.hrtime.bigint();
    return new Promise<HttpResponse<T>>((resolve, reject) => {
      const req = request(
        {
          host: this.host,
          port: this.port,
          method,
          path,
          agent: this.agent,
          headers: {
            ...(payload
              ? { 'content-type': 'application/json', 'content-length': Buffer.byteLength(payload) }
              : {}),
            ...(this.authorization ? { authorization: this.authorization } : {}),
          },
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('error', reject);
          res.on('end', () => {
            const text = Buffer.concat(chunks).toString('utf8');
            let parsed: unknown = text;
            try {
              parsed = text ? JSON.parse(text) : undefined;
            } catch {
              /* not JSON: keep the text */
            }
            const ms = Number(process.hrtime.bigint() - started) / 1e6;
            resolve({ status: res.statusCode ?? 0, body: parsed as T, ms });
          });
        },
      );
      req.on('error', reject);
      req.end(payload);
    });
  }

  close(): void {
    this.agent.destroy();
  }
}

/** Runs `worker` over `items` with at most `concurrency` calls in flight; stops at the first failure. */
export async function runPool<T>(
  items: readonly T[],
  concurrency: number,
  worker: (item: T, index: number) => Promise<void>,
): Promise<void> {
  let next = 0;
  let failed = false;
  const lane = async () => {
    while (!failed && next < items.length) {
      const i = next++;
      try {
        await worker(items[i], i);
      } catch (err) {
        failed = true;
        throw err;
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, items.length) }, lane));
}
