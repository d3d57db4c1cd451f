import { RequestMethod } from '@nestjs/common';
import { METHOD_METADATA, PATH_METADATA } from '@nestjs/common/constants';
import { MetadataScanner, ModulesContainer } from '@nestjs/core';
import { TestServer, startTestServer } from '@purser/testkit';
import { PUBLIC_ROUTE, REQUIRED_PERMISSION } from './auth';

interface Route {
  method: string;
  path: string;
  open: boolean;
  permission: string | undefined;
}

/** Every route of the running org server, from Nest's container: method, path and what it declares. */
function routesOf(server: TestServer): Route[] {
  const routes: Route[] = [];
  const scanner = new MetadataScanner();
  for (const mod of server.app.get(ModulesContainer).values()) {
    for (const wrapper of mod.controllers.values()) {
      const type = wrapper.metatype as (new (...args: never[]) => object) | null;
      if (!type) continue;
      const base = String(Reflect.getMetadata(PATH_METADATA, type) ?? '');
      for (const name of scanner.getAllMethodNames(type.prototype)) {
        const handler = (type.prototype as Record<string, unknown>)[name] as object;
        const path = Reflect.getMetadata(PATH_METADATA, handler);
        if (path === undefined) continue;
        const meta = (key: string) => Reflect.getMetadata(key, handler) ?? Reflect.getMetadata(key, type);
        routes.push({
          method: RequestMethod[Reflect.getMetadata(METHOD_METADATA, handler) as number],
          path: `/${[base, String(path)].filter((p) => p && p !== '/').join('/')}`.replace(/\/+/g, '/'),
          open: meta(PUBLIC_ROUTE) === true,
          permission: meta(REQUIRED_PERMISSION),
        });
      }
    }
  }
  return routes;
}

describe('every route declares who may call it', () => {
  let server: TestServer;

  beforeAll(async () => {
    server = await startTestServer({ env: { PURSER_ADMIN_TOKEN: 'edge-routes-secret-token-0123456789' } });
  });
  afterAll(async () => {
    await server?.stop();
    server?.cleanup();
  });

  it('given the running app, when listing its routes, then each is @Public() or declares @Requires, and every /v1 route requires', () => {
    const routes = routesOf(server);
    expect(routes.length).toBeGreaterThan(40);
    const undeclared = routes.filter((r) => !r.open && !r.permission);
    expect(undeclared).toEqual([]);
    expect(routes.filter((r) => r.path.startsWith('/v1') && r.open)).toEqual([]);
    expect(
      routes
        .filter((r) => r.open)
        .map((r) => r.path)
        .sort(),
    ).toEqual(['/health', '/livez', '/metrics']);
  });

  it('given an admin token, when calling every guarded route without it, then 401; open routes answer', async () => {
    for (const r of routesOf(server)) {
      const path = r.path.replace(/:(\w+)/g, 'x');
      const res = await server.api.raw(
        r.method,
        path,
        r.method === 'GET' || r.method === 'DELETE' ? undefined : {},
      );
      if (r.open) expect({ path, status: res.status }).toEqual({ path, status: 200 });
      else
        expect({ route: `${r.method} ${path}`, status: res.status }).toEqual({
          route: `${r.method} ${path}`,
          status: 401,
        });
    }
    for (const open of ['/docs', '/openapi.json']) expect((await server.api.get(open)).status).toBe(200);
  });
});
