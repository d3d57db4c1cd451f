import { mkdtempSync, rmSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { NestFastifyApplication } from '@nestjs/platform-fastify';
import { loadConfig } from '@purser/platform';
import { contractOf } from './openapi';
import { registeredStarter } from './server-registry';

/** What an app's composition root gives back: the running app, its URL, and a way to stop it. */
export interface RunningServer {
  app: NestFastifyApplication;
  url: string;
  close(): Promise<void>;
}

export interface TestServer extends RunningServer {
  dataDir: string;
  /** A client signed in as the instance administrator (the break-glass token): every org's routes answer it. */
  api: Api;
  /** A client with no credential. */
  anonymous: Api;
  /** The break-glass token the server was started with. */
  adminToken: string;
  /** Stops the server; the data directory stays (for restart tests). */
  stop(): Promise<void>;
  /** Removes the data directory. */
  cleanup(): void;
}

export interface ApiResponse<T = any> {
  status: number;
  body: T;
  headers: Headers;
}

export type Api = ReturnType<typeof apiClient>;

/**
 * An HTTP client for the e2e suites. Every response is checked against the OpenAPI document the server serves
 * (openapi.ts in this kit): an undocumented status, a body that breaks its schema, or an accepted request body
 * the document refuses fails the request (pass `{ contract: false }` only for a client that must not check).
 */
export function apiClient(
  base: string,
  defaultHeaders: Record<string, string> = {},
  options: { contract?: boolean } = {},
) {
  const call = async <T = any>(
    method: string,
    path: string,
    body?: unknown,
    headers: Record<string, string> = {},
  ): Promise<ApiResponse<T>> => {
    const res = await fetch(base + path, {
      method,
      headers: {
        ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
        ...defaultHeaders,
        ...headers,
      },
      body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
    });
    const text = await res.text();
    let parsed: unknown = text;
    try {
      parsed = text ? JSON.parse(text) : undefined;
    } catch {
      /* not JSON: keep the text */
    }
    if (options.contract !== false) {
      const problems = (await contractOf(base)).check({
        method,
        path,
        requestBody: body,
        status: res.status,
        contentType: res.headers.get('content-type'),
        body: parsed,
      });
      if (problems.length)
        throw new Error(`response differs from the OpenAPI document:\n${problems.join('\n')}`);
    }
    return { status: res.status, body: parsed as T, headers: res.headers };
  };
  return {
    get: <T = any>(path: string, headers?: Record<string, string>) =>
      call<T>('GET', path, undefined, headers),
    post: <T = any>(path: string, body?: unknown, headers?: Record<string, string>) =>
      call<T>('POST', path, body ?? {}, headers),
    patch: <T = any>(path: string, body: unknown, headers?: Record<string, string>) =>
      call<T>('PATCH', path, body, headers),
    put: <T = any>(path: string, body?: unknown, headers?: Record<string, string>) =>
      call<T>('PUT', path, body ?? {}, headers),
    delete: <T = any>(path: string, headers?: Record<string, string>) =>
      call<T>('DELETE', path, undefined, headers),
    raw: call,
  };
}

/**
 * Starts the real org server on a free port. Embedded engines by default, in a fresh data directory;
 * pass `env` to point ports at production engines (MONGODB_URL, KAFKA_BROKERS, EVENTSTORE_URL).
 */
export async function startTestServer(
  options: { dataDir?: string; env?: Record<string, string | undefined> } = {},
): Promise<TestServer> {
  const dataDir = options.dataDir ?? mkdtempSync(join(tmpdir(), 'purser-e2e-'));
  const adminToken = options.env?.PURSER_ADMIN_TOKEN ?? `test-break-glass-${randomBytes(12).toString('hex')}`;
  const config = loadConfig({
    PORT: '0',
    HOST: '127.0.0.1',
    LOG_LEVEL: 'silent',
    PURSER_DATA_DIR: dataDir,
    PURSER_MIN_POSITION_TIMEOUT_MS: '3000',
    ...options.env,
    PURSER_ADMIN_TOKEN: adminToken,
  });
  const server = await registeredStarter()(config);
  return {
    ...server,
    dataDir,
    api: apiClient(server.url, { authorization: `Bearer ${adminToken}` }),
    anonymous: apiClient(server.url),
    adminToken,
    stop: () => server.close(),
    cleanup: () => rmSync(dataDir, { recursive: true, force: true }),
  };
}
