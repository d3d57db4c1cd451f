import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import pino from 'pino';
import { randomUUID } from 'node:crypto';
import { loadConfig } from '@purser/platform';
import { startOrgServer } from '../../../../apps/org-server/src/server';
import { Api, apiClient } from '@purser/testkit';

/** The HTTP edge refuses bad input before validation, in the one error shape (issue 12, items 4 and 5). */
const ADMIN_TOKEN = 'edge-spec-break-glass-token';

describe('HTTP edge: input hardening', () => {
  const lines: Array<Record<string, unknown>> = [];
  let api: Api;
  let url: string;
  let close: () => Promise<void>;
  let dataDir: string;

  beforeAll(async () => {
    dataDir = mkdtempSync(join(tmpdir(), 'purser-edge-'));
    const config = loadConfig({
      PORT: '0',
      HOST: '127.0.0.1',
      LOG_LEVEL: 'info',
      PURSER_DATA_DIR: dataDir,
      PURSER_MIN_POSITION_TIMEOUT_MS: '3000',
      PURSER_ADMIN_TOKEN: ADMIN_TOKEN,
    });
    const sink = new Writable({
      write(chunk, _enc, done) {
        for (const line of String(chunk).split('\n')) if (line) lines.push(JSON.parse(line));
        done();
      },
    });
    const server = await startOrgServer(config, pino({ level: 'info' }, sink));
    api = apiClient(server.url, { authorization: `Bearer ${ADMIN_TOKEN}` });
    url = server.url;
    close = server.close;
  });
  afterAll(async () => {
    await close?.();
    rmSync(dataDir, { recursive: true, force: true });
  });

  const oneShape = (status: number) => ({
    statusCode: status,
    error: expect.any(String),
    message: expect.any(String),
    details: expect.any(Array),
  });

  async function world() {
    const org = (
      await api.post('/v1/orgs', { name: `Edge ${randomUUID()}`, baseCurrency: 'USD', timeZone: 'UTC' })
    ).body;
    const team = (await api.post(`/v1/orgs/${org.id}/teams`, { name: 'Eng' })).body;
    const user = (
      await api.post(`/v1/orgs/${org.id}/users`, {
        username: `u-${randomUUID().slice(0, 8)}`,
        email: `${randomUUID().slice(0, 8)}@edge.test`,
        primaryTeamId: team.id,
      })
    ).body;
    return { orgId: org.id as string, teamId: team.id as string, userId: user.id as string };
  }

  const usage = (w: { orgId: string; userId: string }, over: Record<string, unknown> = {}) => ({
    eventId: randomUUID(),
    orgId: w.orgId,
    userId: w.userId,
    itemType: 'Agent',
    itemId: 'research-agent',
    amount: '0.5',
    currency: 'USD',
    occurredAt: '2026-01-15T10:00:00Z',
    ...over,
  });

  describe('deep JSON', () => {
    const deep = (levels: number) => '{"a":'.repeat(levels) + '1' + '}'.repeat(levels);

    it('given a 3 KB body nested 1,500 levels, when sent to every class-validator endpoint, then 400 before validation and one log line without a stack', async () => {
      const w = await world();
      const body = deep(1500);
      const before = lines.length;
      const targets: Array<[string, string]> = [
        ['POST', '/v1/orgs'],
        ['PATCH', `/v1/orgs/${w.orgId}`],
        ['POST', `/v1/orgs/${w.orgId}/teams`],
        ['POST', `/v1/orgs/${w.orgId}/quota-checks`],
        ['POST', `/v1/orgs/${w.orgId}/quotas`],
        ['POST', '/v1/usage'],
      ];
      for (const [method, path] of targets) {
        const res = await api.raw(method, path, body, { 'content-type': 'application/json' });
        expect({ path, status: res.status }).toEqual({ path, status: 400 });
        expect(res.body).toEqual({
          ...oneShape(400),
          message: 'Body is nested deeper than 32 levels',
          details: [{ field: 'body', problem: 'nested deeper than 32 levels' }],
        });
      }
      const logged = lines.slice(before).filter((l) => l.level !== 30 || l.msg !== 'request');
      expect(logged).toHaveLength(targets.length);
      for (const l of logged) {
        expect(l).toMatchObject({ msg: 'request body refused', reason: 'too deep' });
        expect(JSON.stringify(l)).not.toMatch(/stack|RangeError/);
      }
    });

    it('given 32 levels, when posting usage attributes and an org, then the depth bound does not bite', async () => {
      const res = await api.raw('POST', '/v1/orgs', `{"name":"Deep ${randomUUID()}","contactInfo":{}}`, {
        'content-type': 'application/json',
      });
      expect(res.status).toBe(201);
      const inner = await api.raw('POST', '/v1/orgs', deep(32), { 'content-type': 'application/json' });
      expect(inner.status).toBe(400);
      expect(inner.body.details[0].field).not.toBe('body'); // past the parser: class-validator names the fields
    });
  });

  it('given invalid UTF-8 in a JSON body, when creating an org, then 400 and nothing is created', async () => {
    const name = `Bad ${randomUUID()}`;
    const bytes = Buffer.concat([
      Buffer.from(`{"name":"${name} `),
      Buffer.from([0xff, 0xfe]),
      Buffer.from('"}'),
    ]);
    const res = await fetch(`${url}/v1/orgs`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${ADMIN_TOKEN}` },
      body: bytes,
    });
    expect(res.status).toBe(400);
    expect(await res.json()).toEqual({
      ...oneShape(400),
      message: 'Body is not valid UTF-8',
      details: [{ field: 'body', problem: 'invalid UTF-8 byte sequence' }],
    });
    const list = await api.get('/v1/orgs?limit=500');
    expect(
      list.body.items.map((o: { name: string }) => o.name).filter((n: string) => n.startsWith(name)),
    ).toEqual([]);
  });

  it('given a "__proto__" key, when creating an org, then 400 naming the forbidden key', async () => {
    const res = await api.raw(
      'POST',
      '/v1/orgs',
      '{"name":"Proto","contactInfo":{"__proto__":{"admin":true}}}',
      {
        'content-type': 'application/json',
      },
    );
    expect(res.status).toBe(400);
    expect(res.body).toEqual({
      ...oneShape(400),
      message: expect.stringContaining('forbidden key "__proto__"'),
      details: [{ field: 'contactInfo.__proto__', problem: 'forbidden key' }],
    });
  });

  describe('impossible dates and sub-millisecond instants', () => {
    it('given 2026-02-30 anywhere a date or instant is accepted, then 400 naming the field (not March 2)', async () => {
      const w = await world();
      const o = `/v1/orgs/${w.orgId}`;
      const cases: Array<[string, Promise<{ status: number; body: any }>, string]> = [
        ['asOf (org)', api.get(`${o}?asOf=2026-02-30T00:00:00Z`), 'asOf'],
        ['asOf (team)', api.get(`${o}/teams/${w.teamId}?asOf=2026-02-30T00:00:00Z`), 'asOf'],
        ['asOf (user)', api.get(`${o}/users/${w.userId}?asOf=2026-02-30T00:00:00Z`), 'asOf'],
        [
          'effectiveFrom',
          api.post(`${o}/exchange-rates`, {
            currency: 'EUR',
            rate: '1.1',
            effectiveFrom: '2026-02-30T00:00:00Z',
          }),
          'effectiveFrom',
        ],
        ['expenditure from', api.get(`${o}/expenditure?from=2026-02-30&to=2026-03-05`), 'from'],
        ['top to', api.get(`${o}/expenditure/top?by=user&from=2026-02-01&to=2026-02-30`), 'to'],
        ['records from', api.get(`${o}/usage-records?from=2026-02-30T00:00:00Z&to=2026-03-05`), 'from'],
        ['alerts from', api.get(`${o}/quota-alerts?from=2026-02-30T00:00:00Z`), 'from'],
        ['refusals to', api.get(`${o}/quota-refusals?to=2026-02-30T00:00:00Z`), 'to'],
        ['occurredAt', api.post('/v1/usage', usage(w, { occurredAt: '2026-02-30T10:00:00Z' })), 'event'],
      ];
      for (const [name, call, field] of cases) {
        const res = await call;
        expect({ name, status: res.status }).toEqual({ name, status: 400 });
        expect(res.body).toMatchObject(oneShape(400));
        expect(res.body.details[0].field).toBe(field);
      }
      const rates = await api.get(`${o}/exchange-rates`);
      expect(JSON.stringify(rates.body)).not.toMatch(/2026-03-02/);
    });

    it('given nine fraction digits of a second, then 400 saying instants are kept at millisecond precision', async () => {
      const w = await world();
      const nine = '2026-01-15T10:00:00.123456789Z';
      const single = await api.post('/v1/usage', usage(w, { occurredAt: nine }));
      expect(single.status).toBe(400);
      expect(single.body.message).toMatch(/occurredAt has sub-millisecond digits.*millisecond precision/);
      const rate = await api.post(`/v1/orgs/${w.orgId}/exchange-rates`, {
        currency: 'EUR',
        rate: '1.1',
        effectiveFrom: nine,
      });
      expect(rate.status).toBe(400);
      expect(rate.body.details).toEqual([
        { field: 'effectiveFrom', problem: 'more than millisecond precision' },
      ]);
      expect((await api.get(`/v1/orgs/${w.orgId}?asOf=${nine}`)).status).toBe(400);
      // Zeros past the millisecond lose nothing: accepted, stored at millisecond precision.
      const zeros = await api.post('/v1/usage', usage(w, { occurredAt: '2026-01-15T10:00:00.120000000Z' }));
      expect(zeros.status).toBe(201);
    });
  });

  describe('every error in the one shape', () => {
    it('given a 101-character id, then 400 like any invalid id; a 2,000-character one is a 400 too', async () => {
      const long = 'a'.repeat(101);
      const res = await api.get(`/v1/orgs/${long}`);
      expect(res.status).toBe(400);
      expect(res.body).toEqual({
        ...oneShape(400),
        message: 'orgId is not a valid id',
        details: [{ field: 'orgId', problem: 'must be 1-64 characters of [A-Za-z0-9_-]' }],
      });
      const huge = await api.get(`/v1/orgs/${'a'.repeat(2000)}/teams`);
      expect(huge.status).toBe(400);
      expect(huge.body).toMatchObject({ ...oneShape(400), details: [{ field: 'path' }] });
    });

    it('given a bad percent-encoding, an unsupported media type, malformed JSON and a body over the limit, then each answers in the one shape', async () => {
      const badUrl = await api.get('/v1/orgs/%E0%A4%A');
      expect(badUrl.status).toBe(400);
      expect(badUrl.body).toMatchObject(oneShape(400));
      const xml = await api.raw('POST', '/v1/orgs', '<org/>', { 'content-type': 'application/xml' });
      expect(xml.status).toBe(415);
      expect(xml.body).toEqual({
        ...oneShape(415),
        details: [{ field: 'Content-Type', problem: 'unsupported media type' }],
      });
      const malformed = await api.raw('POST', '/v1/orgs', '{"name":', { 'content-type': 'application/json' });
      expect(malformed.status).toBe(400);
      expect(malformed.body).toEqual({ ...oneShape(400), message: 'Body is not valid JSON', details: [] });
      const big = await api.raw('POST', '/v1/usage', `{"events":["${'x'.repeat(16 * 1024 * 1024)}"]}`, {
        'content-type': 'application/json',
      });
      expect(big.status).toBe(413);
      expect(big.body).toEqual({ ...oneShape(413), details: [{ field: 'body', problem: 'too large' }] });
    });

    it('given a known path, when asked with a method it does not serve, then 405 with Allow', async () => {
      const res = await api.raw('PUT', '/v1/orgs', {});
      expect(res.status).toBe(405);
      expect(res.headers.get('allow')?.split(', ').sort()).toEqual(['GET', 'HEAD', 'POST']);
      expect(res.body).toMatchObject({ ...oneShape(405), error: 'Method Not Allowed' });
      const w = await world();
      const del = await api.raw('DELETE', `/v1/orgs/${w.orgId}/quota-alerts`);
      expect(del.status).toBe(405);
      expect(del.headers.get('allow')).toMatch(/GET/);
      expect((await api.get('/v1/nowhere')).status).toBe(404);
    });
  });
});
