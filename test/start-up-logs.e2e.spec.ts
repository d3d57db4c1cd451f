import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createLogger, loadConfig } from '@purser/platform';
import { RunningServer, startOrgServer } from '../apps/org-server/src/server';

const ADMIN_TOKEN = 'start-up-logs-break-glass';

describe('what the org server logs at start and per request (embedded engines)', () => {
  const lines: Array<Record<string, any>> = [];
  let server: RunningServer;
  let dataDir: string;

  beforeAll(async () => {
    dataDir = mkdtempSync(join(tmpdir(), 'purser-logs-'));
    const config = loadConfig(
      {
        PORT: '0',
        HOST: '127.0.0.1',
        PURSER_DATA_DIR: dataDir,
        LOG_LEVEL: 'debug',
        PURSER_ADMIN_TOKEN: ADMIN_TOKEN,
      },
      false,
    );
    const logger = createLogger(
      config.logLevel,
      { app: 'org-server' },
      { destination: { write: (line: string) => lines.push(JSON.parse(line)) } },
    );
    server = await startOrgServer(config, logger);
  });
  afterAll(async () => {
    await server?.close();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('given a start, then info says in a few lines what matters; route mapping and module loading are at debug', () => {
    const listening = lines.findIndex((l) => l.msg === 'org server listening');
    expect(listening).toBeGreaterThan(0);
    const atInfo = lines.slice(0, listening + 1).filter((l) => l.level >= 30);
    expect(atInfo.length).toBeLessThanOrEqual(10);
    expect(atInfo.map((l) => l.context).filter(Boolean)).toEqual([]);
    expect(atInfo.find((l) => l.msg === 'engines selected')).toMatchObject({
      eventStore: `sqlite ${dataDir}`,
      bus: 'in-process',
    });
    expect(atInfo[atInfo.length - 1]).toMatchObject({
      url: server.url,
      docs: `${server.url}/docs`,
      runProjections: true,
    });
    const chatter = lines.filter((l) =>
      ['RouterExplorer', 'InstanceLoader', 'RoutesResolver'].includes(l.context),
    );
    expect(chatter.length).toBeGreaterThan(20);
    expect(chatter.every((l) => l.level === 20)).toBe(true);
  });

  it("given Swagger UI's assets are fetched, then only the page, the document, a failed asset and API calls are logged", async () => {
    const from = lines.length;
    for (const path of [
      '/docs',
      '/docs/swagger-ui.css',
      '/docs/swagger-ui-bundle.js',
      '/docs/swagger-ui-init.js',
      '/docs/no-such-asset.js',
      '/openapi.json',
      '/v1/orgs',
    ]) {
      const res = await fetch(server.url + path, { headers: { authorization: `Bearer ${ADMIN_TOKEN}` } });
      await res.arrayBuffer();
    }
    // The request line is written once the response is sent: wait for the last one.
    const deadline = Date.now() + 5000;
    while (!lines.slice(from).some((l) => l.route === '/v1/orgs') && Date.now() < deadline)
      await new Promise((r) => setImmediate(r));
    const requests = lines.slice(from).filter((l) => l.msg === 'request');
    expect(requests.map((l) => [l.route, l.status])).toEqual([
      ['/docs', 200],
      ['unmatched', 404],
      ['/openapi.json', 200],
      ['/v1/orgs', 200],
    ]);
  });
});
