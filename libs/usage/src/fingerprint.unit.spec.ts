import { UsageRecorded } from './events';
import { canonicalJson } from '@purser/core';
import { usageFingerprint } from './fingerprint';

const data: UsageRecorded['data'] = {
  usageId: 'dup-1',
  orgId: 'org-a',
  userId: 'u-1',
  teamId: 't-1',
  teamPath: ['t-1', 't-0'],
  itemType: 'Agent',
  itemId: 'planner',
  amount: '1.5',
  currency: 'EUR',
  inputTokens: 10,
  outputTokens: null,
  model: null,
  occurredAt: '2026-04-01T09:00:00.000Z',
  reservationId: null,
  attributes: { b: '2', a: '1' },
  timeZone: 'UTC',
  baseCurrency: 'EUR',
};

describe('usage fingerprint', () => {
  it('given the same payload, then the same sha256 hex, whatever the key order or the canonical forms', () => {
    const fp = usageFingerprint(data);
    expect(fp).toMatch(/^[0-9a-f]{64}$/);
    expect(
      usageFingerprint({
        ...data,
        amount: '1.50',
        occurredAt: '2026-04-01T09:00:00Z',
        attributes: { a: '1', b: '2' },
      }),
    ).toBe(fp);
  });

  it('given what the server stamps changed (team path, zone, base currency), then the fingerprint is the same', () => {
    expect(
      usageFingerprint({ ...data, teamPath: ['t-1'], timeZone: 'Europe/Paris', baseCurrency: 'USD' }),
    ).toBe(usageFingerprint(data));
  });

  it('given another amount, currency, user, item, time, token count or attribute, then another fingerprint', () => {
    const fp = usageFingerprint(data);
    for (const change of [
      { amount: '1.51' },
      { currency: 'USD' },
      { userId: 'u-2' },
      { teamId: null },
      { itemId: 'other' },
      { occurredAt: '2026-04-01T09:00:01.000Z' },
      { inputTokens: 11 },
      { attributes: { a: '1' } },
      { orgId: 'org-b' },
    ])
      expect(usageFingerprint({ ...data, ...change })).not.toBe(fp);
  });

  it('given a record stored without the optional fields, then it is fingerprinted as with their empty values', () => {
    const { attributes: _a, reservationId: _r, ...old } = data;
    expect(usageFingerprint({ ...(old as UsageRecorded['data']), attributes: {} })).toBe(
      usageFingerprint({ ...data, attributes: {} }),
    );
    expect(usageFingerprint(old as UsageRecorded['data'])).toBe(
      usageFingerprint({ ...data, attributes: {} }),
    );
  });

  it('writes canonical JSON: keys sorted at every level, no whitespace', () => {
    expect(canonicalJson({ b: [{ d: 1, c: null }], a: 'x', z: undefined })).toBe(
      '{"a":"x","b":[{"c":null,"d":1}]}',
    );
  });
});
