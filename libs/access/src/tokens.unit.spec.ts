import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { KeyMaterial } from './key-material';
import { AccessTokens, composeToken, parseToken } from './tokens';

describe('key material and access tokens', () => {
  let dir: string;
  beforeEach(() => {
    dir = join(mkdtempSync(join(tmpdir(), 'purser-keys-')), 'keys');
  });
  afterEach(() => rmSync(join(dir, '..'), { recursive: true, force: true }));
  const now = new Date('2026-12-06T12:00:00Z');
  const claims = { typ: 'access' as const, sub: 'u1', org: 'o1', sid: 's1' };

  it('given a fresh folder, when opened, then a pepper, a sealing key and a signing key, each 0600, in a 0700 folder', () => {
    KeyMaterial.open(dir);
    expect(statSync(dir).mode & 0o777).toBe(0o700);
    for (const f of ['pepper', 'seal.key', 'signing-keys.json'])
      expect(statSync(join(dir, f)).mode & 0o777).toBe(0o600);
  });

  it('given a token, when verified, then its claims; tampered, expired, of another type or another instance, then null', async () => {
    const tokens = new AccessTokens(KeyMaterial.open(dir));
    const token = await tokens.sign(claims, now, 900);
    expect(await tokens.verify(token, 'access', now)).toMatchObject({ sub: 'u1', org: 'o1', sid: 's1' });
    expect(await tokens.verify(token, 'mfa', now)).toBeNull();
    expect(await tokens.verify(token, 'access', new Date(now.getTime() + 901_000))).toBeNull();
    const [h, p, s] = token.split('.');
    const forged = Buffer.from(
      JSON.stringify({ ...JSON.parse(Buffer.from(p, 'base64url').toString()), sub: 'u2' }),
    );
    expect(await tokens.verify(`${h}.${forged.toString('base64url')}.${s}`, 'access', now)).toBeNull();
    const other = new AccessTokens(KeyMaterial.open(join(dir, '..', 'other')));
    expect(await other.verify(token, 'access', now)).toBeNull();
  });

  it('given a rotation, then new tokens carry the new key id and tokens signed before still verify', async () => {
    const before = new AccessTokens(KeyMaterial.open(dir));
    const old = await before.sign(claims, now, 900);
    const kid = KeyMaterial.rotate(dir);
    const after = new AccessTokens(KeyMaterial.open(dir));
    const fresh = await after.sign(claims, now, 900);
    expect(JSON.parse(Buffer.from(fresh.split('.')[0], 'base64url').toString()).kid).toBe(kid);
    expect(await after.verify(old, 'access', now)).not.toBeNull();
    expect(KeyMaterial.open(dir).jwks().keys).toHaveLength(2);
  });

  it('given secrets, then digests are keyed by the pepper, compared in constant time, and sealing round-trips', () => {
    const keys = KeyMaterial.open(dir);
    const digest = keys.digest('a-secret');
    expect(digest).toMatch(/^[0-9a-f]{64}$/);
    expect(keys.matches('a-secret', digest)).toBe(true);
    expect(keys.matches('b-secret', digest)).toBe(false);
    expect(KeyMaterial.open(join(dir, '..', 'other')).digest('a-secret')).not.toBe(digest);
    const sealed = keys.seal('JBSWY3DPEHPK3PXP');
    expect(sealed).not.toContain('JBSWY3DPEHPK3PXP');
    expect(keys.unseal(sealed)).toBe('JBSWY3DPEHPK3PXP');
  });

  it('given opaque tokens, then they parse back to their id and secret; anything else is null', () => {
    const token = composeToken('prt', '0190f1c2-7e4b-7c1a', 'A'.repeat(43));
    expect(parseToken('prt', token)).toEqual({ id: '0190f1c2-7e4b-7c1a', secret: 'A'.repeat(43) });
    expect(parseToken('prk', token)).toBeNull();
    expect(parseToken('prt', 'prt_id_short')).toBeNull();
    expect(parseToken('prt', 42)).toBeNull();
  });
});
