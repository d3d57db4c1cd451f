import { Secret, TOTP } from 'otpauth';
import { newRecoveryCodes, newTotpSecret, normalizeRecoveryCode, totpStepOf } from './totp';

const T = Date.parse('2025-03-01T10:00:10.000Z');
const codeAt = (secret: string, ms: number) =>
  new TOTP({ secret: Secret.fromBase32(secret), algorithm: 'SHA1', digits: 6, period: 30 }).generate({
    timestamp: ms,
  });

describe('TOTP and recovery codes', () => {
  const secret = newTotpSecret();
  const step = Math.floor(T / 30_000);

  it("given a code of now, the step before or the step after, when checked, then each code's own step", () => {
    expect(totpStepOf(secret, codeAt(secret, T), new Date(T).toISOString())).toBe(step);
    expect(totpStepOf(secret, codeAt(secret, T - 30_000), new Date(T).toISOString())).toBe(step - 1);
    expect(totpStepOf(secret, codeAt(secret, T + 30_000), new Date(T).toISOString())).toBe(step + 1);
  });

  it('given a code two steps away, another secret or no code at all, when checked, then null', () => {
    const now = new Date(T).toISOString();
    const two = codeAt(secret, T + 60_000);
    const near = [-30_000, 0, 30_000].map((d) => codeAt(secret, T + d));
    if (!near.includes(two)) expect(totpStepOf(secret, two, now)).toBeNull();
    const other = newTotpSecret();
    const otherCode = codeAt(other, T);
    if (!near.includes(otherCode)) expect(totpStepOf(secret, otherCode, now)).toBeNull();
    expect(totpStepOf(secret, 'abcdef', now)).toBeNull();
    expect(totpStepOf(secret, '12345', now)).toBeNull();
  });

  it('given a fresh secret, then 160 bits of base32', () => {
    expect(secret).toMatch(/^[A-Z2-7]{32}$/);
  });

  it('given fresh recovery codes, then ten distinct xxxx-xxxx-xxxx codes; a typed one normalizes to its form', () => {
    const codes = newRecoveryCodes();
    expect(codes).toHaveLength(10);
    expect(new Set(codes).size).toBe(10);
    for (const c of codes) expect(c).toMatch(/^[a-z0-9]{4}-[a-z0-9]{4}-[a-z0-9]{4}$/);
    expect(normalizeRecoveryCode(' ABCD efgh-JKMN ')).toBe('abcd-efgh-jkmn');
    expect(normalizeRecoveryCode('abcdefghjkmn')).toBe('abcd-efgh-jkmn');
  });
});
