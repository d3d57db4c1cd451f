import { createHash } from 'node:crypto';
import { DEFAULT_AT, projectionSpec } from '@purser/testkit';
import { AUDIT_ENTRIES, AUDIT_HEADS, AuditProjection } from './projection';
import { canonicalJson } from '@purser/core';
import { ZERO_HASH } from './entry';
import { verifyChain } from './chain';

const A = 'org-a';
const B = 'org-b';
const ada = { type: 'user' as const, id: 'u-ada', orgId: A };

const events = [
  { type: 'OrgCreated', streamId: `org-${A}`, data: { orgId: A, name: 'Acme' }, actor: ada },
  { type: 'SetupStarted', streamId: 'access-instance', data: { at: DEFAULT_AT } },
  {
    type: 'PasswordSet',
    streamId: 'credential-u-bob',
    data: { orgId: A, userId: 'u-bob', hash: '$argon2id$v=19$secret', reason: 'set' },
    actor: ada,
  },
  { type: 'OrgCreated', streamId: `org-${B}`, data: { orgId: B, name: 'Beta' } },
  {
    type: 'UsageRecorded',
    streamId: `usage-${A}-use-1`,
    data: { orgId: A, usageId: 'use-1', amount: '0.0125', currency: 'USD' },
    actor: { type: 'apiKey' as const, id: 'key-1', orgId: A },
  },
  {
    type: 'SessionStarted',
    streamId: 'session-s1',
    data: { orgId: A, sessionId: 's1', refreshDigest: 'abc', nested: { tokenDigest: 'def', keep: 1 } },
  },
];

const sha = (s: string) => createHash('sha256').update(s).digest('hex');

/** The chain as the projection must build it, computed here independently from the rule in the brief. */
function expected() {
  const entry = (
    position: number,
    org: string,
    seq: number,
    type: string,
    streamId: string,
    actor: { type: string; id: string },
    entityType: string,
    entityId: string,
    data: unknown,
  ) => ({
    eventId: `evt-${position}`,
    org,
    seq,
    position: String(position).padStart(20, '0'),
    occurredAt: DEFAULT_AT,
    type,
    streamId,
    actor,
    correlationId: `corr-${position}`,
    entityType,
    entityId,
    data,
  });
  const sys = { type: 'system', id: 'purser' };
  const facts = [
    entry(1, A, 1, 'OrgCreated', `org-${A}`, { type: 'user', id: 'u-ada' }, 'org', A, {
      orgId: A,
      name: 'Acme',
    }),
    entry(3, A, 2, 'PasswordSet', 'credential-u-bob', { type: 'user', id: 'u-ada' }, 'credential', 'u-bob', {
      orgId: A,
      userId: 'u-bob',
      hash: '[redacted]',
      reason: 'set',
    }),
    entry(4, B, 1, 'OrgCreated', `org-${B}`, sys, 'org', B, { orgId: B, name: 'Beta' }),
    entry(5, A, 3, 'UsageRecorded', `usage-${A}-use-1`, { type: 'apiKey', id: 'key-1' }, 'usage', 'use-1', {
      orgId: A,
      usageId: 'use-1',
      amount: '0.0125',
      currency: 'USD',
    }),
    entry(6, A, 4, 'SessionStarted', 'session-s1', sys, 'session', 's1', {
      orgId: A,
      sessionId: 's1',
      refreshDigest: '[redacted]',
      nested: { tokenDigest: '[redacted]', keep: 1 },
    }),
  ];
  const last = new Map<string, string>();
  const docs = facts.map((f) => {
    const prevHash = last.get(f.org) ?? ZERO_HASH;
    const hash = sha(prevHash + canonicalJson(f));
    last.set(f.org, hash);
    return { _id: f.eventId, ...f, prevHash, hash };
  });
  return { docs, last };
}

describe('audit projection', () => {
  it('given events of two orgs and one of no org, then one chained entry per org event, secrets redacted, idempotent', async () => {
    const { docs, last } = expected();
    await projectionSpec(() => new AuditProjection())
      .given(events)
      .thenIdempotent({
        [AUDIT_ENTRIES]: docs,
        [AUDIT_HEADS]: [
          { _id: A, seq: 4, hash: last.get(A), _pos: '00000000000000000006' },
          { _id: B, seq: 1, hash: last.get(B), _pos: '00000000000000000004' },
        ],
      });
  });

  it('given the events in batches of two, then the same chain (per-batch insertMany, heads carried over)', async () => {
    const { docs } = expected();
    await projectionSpec(() => new AuditProjection(), { batchSize: 2 })
      .given(events)
      .then({ [AUDIT_ENTRIES]: docs });
  });

  it('given the stored entries of an org, then verifyChain accepts them in seq order', async () => {
    const store = await projectionSpec(() => new AuditProjection())
      .given(events)
      .then({});
    const page = await store.find(AUDIT_ENTRIES, { org: A }, { sort: { seq: 1 } });
    const lines = page.items.map(({ _id, ...e }) => JSON.stringify(e));
    expect(verifyChain(lines)).toEqual({ ok: true, entries: 4 });
  });
});
