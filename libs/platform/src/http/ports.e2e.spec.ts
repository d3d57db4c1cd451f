import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { NestFastifyApplication } from '@nestjs/platform-fastify';
import { Authorizer, ForbiddenError, Permission, Principal, fixedClock } from '@purser/core';
import { closeEngines, createEngines } from '@purser/engines';
import { createHttpApp, createLogger, loadConfig } from '@purser/platform';
import { OrgServerModule } from '../../../../apps/org-server/src/app.module';
import { Api, apiClient } from '@purser/testkit';

/** The edge's ports: a test pins the clock and brings its own authorizer. */
const TOKEN = 'break-glass-token-for-ports-spec';

describe('HTTP edge: injected clock and authorizer', () => {
  const asked: Array<{ principal: Principal; permission: Permission; orgId?: string }> = [];
  const authorizer: Authorizer = {
    authorize(principal, permission, scope) {
      asked.push({ principal, permission, ...scope });
      if (permission === 'team.manage')
        throw new ForbiddenError(`${principal.actor.id} may not ${permission}`);
    },
  };
  let app: NestFastifyApplication;
  let api: Api;
  let dataDir: string;
  let stopEngines: () => Promise<void>;

  beforeAll(async () => {
    dataDir = mkdtempSync(join(tmpdir(), 'purser-ports-'));
    const config = loadConfig({
      PORT: '0',
      HOST: '127.0.0.1',
      LOG_LEVEL: 'silent',
      PURSER_DATA_DIR: dataDir,
      PURSER_ADMIN_TOKEN: TOKEN,
    });
    const logger = createLogger('silent');
    const engines = await createEngines(config, logger);
    stopEngines = () => closeEngines(engines);
    app = await createHttpApp(
      OrgServerModule.forRoot({
        config,
        logger,
        engines,
        runProjections: true,
        clock: fixedClock('2026-03-01T12:00:00Z'),
        authorizer,
      }),
      { config, logger },
    );
    await app.listen(0, '127.0.0.1');
    const address = app.getHttpServer().address() as { port: number };
    api = apiClient(`http://127.0.0.1:${address.port}`, { authorization: `Bearer ${TOKEN}` });
  });
  afterAll(async () => {
    await app?.close();
    await stopEngines?.();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('given a fixed clock, when creating an org and recording usage, then command time is the clock, not the wall', async () => {
    const org = await api.post('/v1/orgs', { name: 'Clockwork', timeZone: 'UTC' });
    expect(org.status).toBe(201);
    const read = await api.get(`/v1/orgs/${org.body.id}?minPosition=${org.body.position}`);
    expect(read.body.createdAt).toBe('2026-03-01T12:00:00.000Z');
    // "More than 5 minutes in the future" is judged against the injected clock.
    const future = await api.post('/v1/usage', {
      eventId: 'clock-1',
      orgId: org.body.id,
      userId: 'nobody',
      itemType: 'Agent',
      itemId: 'a',
      amount: '1',
      currency: 'USD',
      occurredAt: '2026-03-01T12:06:00Z',
    });
    expect(future.status).toBe(400);
    expect(future.body.message).toMatch(/more than 5 minutes in the future/);
  });

  it('given an authorizer, when a route is called, then it is asked for the declared permission in the route org, and its refusal is a 403', async () => {
    const org = await api.post('/v1/orgs', { name: 'Guarded', timeZone: 'UTC' });
    asked.length = 0;
    const team = await api.post(`/v1/orgs/${org.body.id}/teams`, { name: 'Nope' });
    expect(team.status).toBe(403);
    expect(team.body).toMatchObject({
      statusCode: 403,
      error: 'Forbidden',
      message: 'break-glass may not team.manage',
    });
    await api.get(`/v1/orgs/${org.body.id}`);
    const breakGlass = {
      actor: { type: 'apiKey', id: 'break-glass' },
      orgId: null,
      instanceAdmin: true,
      via: 'breakGlass',
    };
    expect(asked).toEqual([
      { principal: breakGlass, permission: 'team.manage', orgId: org.body.id },
      { principal: breakGlass, permission: 'org.read', orgId: org.body.id },
    ]);
  });
});
