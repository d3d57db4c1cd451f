import { randomUUID } from 'node:crypto';
import { EVENT_STORE, EventStore, READ_STORE, ReadStore } from '@purser/core';
import { Api, SignedIn, TestServer, signedInOrg } from '@purser/testkit';
import { verifyChain } from '../chain';
import type { AuditEntry } from '../entry';
import { AUDIT_ENTRIES } from '../projection';

export type StartServer = () => Promise<TestServer>;

const USAGES = 7;

/**
 * The audit trail through the API, on whichever engines `start` uses: an org with teams, users, a quota, usage and
 * a signed-in member; then filters, paging, exports, verification and tampering found by verifyChain.
 */
export function auditApiSpec(start: StartServer) {
  describe('audit trail: filters, paging, exports, verification', () => {
    let server: TestServer;
    let admin: Api;
    let orgId: string;
    let member: SignedIn;
    let carolId: string;
    let minPosition: string;
    let all: AuditEntry[];
    let jsonl: string;

    const audit = (query = '') =>
      admin.get(`/v1/orgs/${orgId}/audit?minPosition=${minPosition}${query ? `&${query}` : ''}`);
    beforeAll(async () => {
      server = await start();
      admin = server.api;
      const org = await admin.post('/v1/orgs', {
        name: `Audit ${randomUUID()}`,
        baseCurrency: 'EUR',
        timeZone: 'UTC',
      });
      expect(org.status).toBe(201);
      orgId = org.body.id;
      member = await signedInOrg(server, admin, { orgId, username: 'bob' });
      // Bob manages teams as an org-wide admin (a member could not).
      const role = await admin.put(`/v1/orgs/${orgId}/role-assignments`, {
        principal: { type: 'user', id: member.userId },
        roleId: 'admin',
        scope: { type: 'org' },
      });
      expect(role.status).toBe(200);
      const team = await member.api.post(`/v1/orgs/${orgId}/teams`, { name: 'Research' });
      expect(team.status).toBe(201);
      expect((await member.api.post(`/v1/orgs/${orgId}/teams`, { name: 'Ops' })).status).toBe(201);
      const carol = await admin.post(`/v1/orgs/${orgId}/users`, {
        username: 'carol',
        email: 'carol@audit.test',
      });
      expect(carol.status).toBe(201);
      carolId = carol.body.id;
      // A quota on bob; the usage is carol's, so no ledger events arrive later (the trail is settled below).
      const quota = await admin.post(`/v1/orgs/${orgId}/quotas`, {
        entityType: 'User',
        entityId: member.userId,
        metric: 'cost',
        period: 'none',
        limit: '100',
      });
      expect(quota.status).toBe(201);
      for (let i = 0; i < USAGES; i++) {
        const u = await admin.post('/v1/usage', {
          eventId: randomUUID(),
          orgId,
          userId: carolId,
          itemType: 'Agent',
          itemId: 'research-agent',
          amount: '0.25',
          currency: 'EUR',
          occurredAt: '2026-03-10T10:00:00Z',
        });
        expect(u.status).toBe(201);
      }
      minPosition = String(await server.app.get<EventStore>(EVENT_STORE).headPosition());
      const res = await audit('format=jsonl');
      expect(res.status).toBe(200);
      jsonl = typeof res.body === 'string' ? res.body : JSON.stringify(res.body) + '\n';
      all = jsonl
        .split('\n')
        .filter(Boolean)
        .map((l) => JSON.parse(l));
    });
    afterAll(async () => {
      await server?.stop();
      server?.cleanup();
    });

    it('given the org, when exporting JSON lines, then one entry per event, seq 1..n, each chained to the one before', async () => {
      expect(all.length).toBeGreaterThan(USAGES + 5);
      expect(all.map((e) => e.seq)).toEqual(all.map((_, i) => i + 1));
      expect(all[0]).toMatchObject({
        type: 'OrgCreated',
        entityType: 'org',
        entityId: orgId,
        prevHash: '0'.repeat(64),
      });
      for (let i = 1; i < all.length; i++) expect(all[i].prevHash).toBe(all[i - 1].hash);
      expect(all.filter((e) => e.type === 'UsageRecorded')).toHaveLength(USAGES);
      expect(new Set(all.map((e) => e.eventId)).size).toBe(all.length);
    });

    it('given a password set and a sign-in, then their entries concern the credential and hold no hash or digest', async () => {
      const res = await audit(`entityType=credential&entityId=${member.userId}`);
      expect(res.status).toBe(200);
      const types = res.body.items.map((e: AuditEntry) => e.type);
      expect(types).toEqual(expect.arrayContaining(['PasswordSet', 'SignInSucceeded']));
      const set = res.body.items.find((e: AuditEntry) => e.type === 'PasswordSet');
      expect(set.data.hash).toBe('[redacted]');
      expect(jsonl).not.toMatch(/\$argon2/);
      const session = all.find((e) => e.type === 'SessionStarted')!;
      expect(session.entityType).toBe('session');
      expect((session.data as Record<string, unknown>).refreshDigest).toBe('[redacted]');
    });

    it('given entries by several actors, when filtering by actor (type:id and id), then only theirs', async () => {
      const byType = await audit(`actor=user:${member.userId}`);
      const byId = await audit(`actor=${member.userId}`);
      expect(byType.status).toBe(200);
      expect(byType.body.items.map((e: AuditEntry) => e.type)).toEqual(['TeamCreated', 'TeamCreated']);
      expect(byId.body.items).toEqual(byType.body.items);
      const admins = await audit('actor=apiKey:break-glass&limit=500');
      expect(admins.body.items.length).toBeGreaterThan(USAGES);
      expect(admins.body.items.every((e: AuditEntry) => e.actor.id === 'break-glass')).toBe(true);
      expect((await audit(`actor=apiKey:${member.userId}`)).body.items).toEqual([]);
    });

    it('given entries of several entities and types, when filtering by entity and by types, then exactly those', async () => {
      const carol = await audit(`entityType=user&entityId=${carolId}`);
      expect(carol.body.items.map((e: AuditEntry) => e.type)).toEqual(['UserCreated']);
      const types = await audit('type=TeamCreated,QuotaDefined,UserCreated&limit=500');
      const expected = all.filter((e) => ['TeamCreated', 'QuotaDefined', 'UserCreated'].includes(e.type));
      expect(types.body.items).toEqual(expected);
      expect(expected.filter((e) => e.type === 'UserCreated')).toHaveLength(2);
    });

    it('given entries over time, when filtering by from/to, then only the entries in that window', async () => {
      const from = all[3].occurredAt;
      const to = all[all.length - 2].occurredAt;
      const res = await audit(`from=${from}&to=${to}&limit=500`);
      expect(res.status).toBe(200);
      const inWindow = all.filter((e) => e.occurredAt >= from && e.occurredAt < to);
      expect(res.body.items).toEqual(inWindow);
      expect(inWindow.length).toBeGreaterThan(0);
      expect(inWindow.length).toBeLessThan(all.length);
      expect((await audit(`to=${all[0].occurredAt}`)).body.items).toEqual([]);
      const bad = await audit('from=2026-02-30T00:00:00Z');
      expect(bad.status).toBe(400);
      expect(bad.body.details[0]).toMatchObject({ field: 'from' });
    });

    it('given a page size of 3, when following nextCursor, then every entry once, in seq order', async () => {
      const seen: AuditEntry[] = [];
      let cursor: string | null = null;
      do {
        const res: { status: number; body: { items: AuditEntry[]; nextCursor: string | null } } = await audit(
          `limit=3${cursor ? `&cursor=${cursor}` : ''}`,
        );
        expect(res.status).toBe(200);
        expect(res.body.items.length).toBeLessThanOrEqual(3);
        seen.push(...res.body.items);
        cursor = res.body.nextCursor;
      } while (cursor);
      expect(seen).toEqual(all);
      expect((await audit('limit=501')).status).toBe(400);
    });

    it('given the org, when exporting CSV, then a header line and one line per entry', async () => {
      const res = await audit('format=csv');
      expect(res.status).toBe(200);
      expect(res.headers.get('content-type')).toMatch(/^text\/csv/);
      const lines = (res.body as string).trimEnd().split('\n');
      expect(lines[0]).toBe(
        'seq,occurredAt,type,actorType,actorId,entityType,entityId,streamId,position,eventId,correlationId,data,prevHash,hash',
      );
      expect(lines).toHaveLength(all.length + 1);
      expect(lines[1].startsWith(`1,${all[0].occurredAt},OrgCreated,apiKey,break-glass,org,${orgId},`)).toBe(
        true,
      );
      expect(lines[lines.length - 1].endsWith(`,${all[all.length - 1].hash}`)).toBe(true);
      const jl = await audit('format=jsonl&type=UserCreated');
      expect(jl.headers.get('content-type')).toMatch(/^application\/x-ndjson/);
    });

    it('given the stored chain, when verified by the server and by verifyChain, then ok', async () => {
      const res = await admin.post(`/v1/orgs/${orgId}/audit/verify?minPosition=${minPosition}`);
      expect(res.status).toBe(200);
      expect(res.body).toEqual({ ok: true, entries: all.length });
      const lines = jsonl.split('\n');
      expect(verifyChain(lines)).toEqual({ ok: true, entries: all.length });
    });

    it('given a tampered export (a line altered, removed, or two swapped), then verifyChain names the first bad seq (the CLI spec runs the same through its command)', async () => {
      const lines = jsonl.split('\n').filter(Boolean);
      const altered = [...lines];
      const e = JSON.parse(altered[4]);
      e.data = { ...e.data, name: 'forged' };
      altered[4] = JSON.stringify(e);
      const removed = lines.filter((_, i) => i !== 6);
      const swapped = [...lines];
      [swapped[2], swapped[3]] = [swapped[3], swapped[2]];
      for (const [tampered, firstBadSeq, problem] of [
        [altered, 5, 'altered'],
        [removed, 7, 'missing'],
        [swapped, 3, 'reordered'],
      ] as const) {
        expect(verifyChain(tampered)).toMatchObject({ ok: false, firstBadSeq, problem });
      }
    });

    it('given a member of another org, when reading this org trail or verifying it, then 404 as for an unknown org', async () => {
      const other = await signedInOrg(server, admin);
      expect((await other.api.get(`/v1/orgs/${orgId}/audit`)).status).toBe(404);
      expect((await other.api.post(`/v1/orgs/${orgId}/audit/verify`)).status).toBe(404);
      expect((await member.api.get(`/v1/orgs/${orgId}/audit?limit=1`)).status).toBe(200);
      expect((await admin.get(`/v1/orgs/${randomUUID()}/audit`)).status).toBe(404);
    });

    it('given stored entries tampered with (data altered, then an entry deleted), when verified by the server, then it names the first bad seq', async () => {
      const store = server.app.get<ReadStore>(READ_STORE);
      const verify = () => admin.post(`/v1/orgs/${orgId}/audit/verify?minPosition=${minPosition}`);
      const fifth = all[4];
      await store.update(AUDIT_ENTRIES, fifth.eventId, { $set: { 'data.forged': true } });
      expect((await verify()).body).toEqual({ ok: false, entries: 5, firstBadSeq: 5, problem: 'altered' });
      await store.update(AUDIT_ENTRIES, fifth.eventId, { $unset: { 'data.forged': true } });
      expect((await verify()).body).toEqual({ ok: true, entries: all.length });
      const last = all[all.length - 1];
      await store.delete(AUDIT_ENTRIES, all[2].eventId);
      expect((await verify()).body).toMatchObject({ ok: false, firstBadSeq: 3, problem: 'missing' });
      await store.insert(AUDIT_ENTRIES, { _id: all[2].eventId, ...all[2] });
      await store.delete(AUDIT_ENTRIES, last.eventId);
      expect((await verify()).body).toMatchObject({ ok: false, firstBadSeq: last.seq, problem: 'missing' });
    });
  });
}
