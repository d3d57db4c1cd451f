import { startTestServer, TestServer } from '@purser/testkit';

/** The module files this test file's (fresh) Jest module registry has loaded: every `require` lands here. */
function loadedModules(): string[] {
  return Object.keys(require.cache);
}

const loaded = (pkg: string) => loadedModules().some((file) => file.includes(`/node_modules/${pkg}/`));

const VENDOR_CLIENTS = ['kafkajs', 'mongoose', 'mongodb', '@eventstore/db-client', 'nodemailer'];

describe('an embedded start', () => {
  let server: TestServer;

  afterAll(async () => {
    await server?.stop();
    server?.cleanup();
  });

  it('given no production engine configured, when the org server starts and serves, then kafkajs, mongoose, the EventStoreDB client and nodemailer (mail off) were never loaded', async () => {
    server = await startTestServer(); // embedded: no engine address in its configuration
    expect((await server.api.get('/health')).status).toBe(200);
    expect(VENDOR_CLIENTS.filter(loaded)).toEqual([]);
    // The check sees what is loaded: the embedded engine's driver is there, and a vendor adapter shows once imported.
    expect(loaded('better-sqlite3')).toBe(true);
    await import('@purser/engines/kafka/kafka-bus');
    expect(loaded('kafkajs')).toBe(true);
  });
});
