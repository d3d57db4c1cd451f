import { ConflictError, NotFoundError } from '@purser/core';
import { given } from '@purser/testkit';
import { apiKeyDecider, isUsable } from './api-key.decider';
import { ApiKeyEvent } from '../events';

const created: ApiKeyEvent = {
  type: 'ApiKeyCreated',
  data: {
    keyId: 'k1',
    orgId: 'o1',
    owner: { type: 'user', id: 'u1' },
    name: 'agent',
    scopes: ['usage.record'],
    expiresAt: '2030-01-01T00:00:00.000Z',
    secretDigest: 'aa',
  },
};
const who = { keyId: 'k1', orgId: 'o1' };
const revoked: ApiKeyEvent = { type: 'ApiKeyRevoked', data: { ...who, reason: 'revoked' } };

describe('api key decider', () => {
  it('given nothing, when creating a key, then ApiKeyCreated with the digest only', () => {
    given(apiKeyDecider)
      .when({ type: 'CreateApiKey', ...created.data })
      .then([created]);
  });

  it('given a key, when creating it again (a retried command), then nothing', () => {
    given(apiKeyDecider, [created])
      .when({ type: 'CreateApiKey', ...created.data, secretDigest: 'bb' })
      .thenNothing();
  });

  it('given nothing, when rotating or revoking, then refused as unknown', () => {
    given(apiKeyDecider).when({ type: 'RevokeApiKey', reason: 'revoked' }).thenRefuses(NotFoundError);
    given(apiKeyDecider)
      .when({
        type: 'RotateApiKey',
        secretDigest: 'bb',
        previousValidUntil: '2026-01-01T01:00:00.000Z',
        now: '2026-01-01T00:00:00.000Z',
      })
      .thenRefuses(NotFoundError);
  });

  it('given a key, when rotated, then the new digest, and the old one is kept until the overlap ends', () => {
    const rotation = given(apiKeyDecider, [created]).when({
      type: 'RotateApiKey',
      secretDigest: 'bb',
      previousValidUntil: '2026-01-01T01:00:00.000Z',
      now: '2026-01-01T00:00:00.000Z',
    });
    const [event] = rotation.then([
      {
        type: 'ApiKeyRotated',
        data: { ...who, secretDigest: 'bb', previousValidUntil: '2026-01-01T01:00:00.000Z' },
      },
    ]);
    const s = given(apiKeyDecider, [created, event]).state;
    expect(s.secretDigest).toBe('bb');
    expect(s.previous).toEqual({ secretDigest: 'aa', validUntil: '2026-01-01T01:00:00.000Z' });
  });

  it('given a revoked key, when rotated, then refused with 409; when revoked again, then nothing', () => {
    given(apiKeyDecider, [created, revoked])
      .when({
        type: 'RotateApiKey',
        secretDigest: 'bb',
        previousValidUntil: '2026-01-01T01:00:00.000Z',
        now: '2026-01-01T00:00:00.000Z',
      })
      .thenRefuses(ConflictError, /revoked or expired/);
    given(apiKeyDecider, [created, revoked])
      .when({ type: 'RevokeApiKey', reason: 'owner-deactivated' })
      .thenNothing();
  });

  it('given an expired key, when rotated, then refused; it is not usable', () => {
    const after = '2030-01-01T00:00:00.001Z';
    given(apiKeyDecider, [created])
      .when({ type: 'RotateApiKey', secretDigest: 'bb', previousValidUntil: after, now: after })
      .thenRefuses(ConflictError);
    expect(isUsable(given(apiKeyDecider, [created]).state, after)).toBe(false);
    expect(isUsable(given(apiKeyDecider, [created]).state, '2029-12-31T23:59:59.999Z')).toBe(true);
  });

  it('given a key, when its owner is deactivated, then ApiKeyRevoked with that reason, and it is not usable', () => {
    const [event] = given(apiKeyDecider, [created])
      .when({ type: 'RevokeApiKey', reason: 'owner-deactivated' })
      .then([{ type: 'ApiKeyRevoked', data: { ...who, reason: 'owner-deactivated' } }]);
    expect(isUsable(given(apiKeyDecider, [created, event]).state, '2026-01-01T00:00:00.000Z')).toBe(false);
  });

  it('given a use recorded today, when used again today, then nothing; when used the next UTC day, then ApiKeyUsed', () => {
    const used: ApiKeyEvent = { type: 'ApiKeyUsed', data: { ...who, day: '2026-03-01', ip: '10.0.0.1' } };
    given(apiKeyDecider, [created])
      .when({ type: 'RecordApiKeyUse', day: '2026-03-01', ip: '10.0.0.1' })
      .then([used]);
    given(apiKeyDecider, [created, used])
      .when({ type: 'RecordApiKeyUse', day: '2026-03-01', ip: '10.0.0.2' })
      .thenNothing();
    given(apiKeyDecider, [created, used])
      .when({ type: 'RecordApiKeyUse', day: '2026-03-02', ip: '10.0.0.2' })
      .then([{ type: 'ApiKeyUsed', data: { ...who, day: '2026-03-02', ip: '10.0.0.2' } }]);
  });
});
