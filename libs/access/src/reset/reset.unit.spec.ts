import { UnauthenticatedError } from '@purser/core';
import { given } from '@purser/testkit';
import { CredentialCommand, credentialDecider } from '../credentials/credential.decider';
import { CredentialEvent } from '../events';
import { resetMail } from './reset';

const who = { userId: 'u1', orgId: 'o1' };
const origin = { ip: '127.0.0.1', userAgent: null };
const ev = <T extends CredentialEvent['type']>(type: T, data: object) =>
  ({ type, data: { ...who, ...data } }) as CredentialEvent;

const passwordSet = ev('PasswordSet', { hash: 'h0', reason: 'setup' });
const requested = (resetId: string, tokenDigest: string, expiresAt: string) =>
  ev('PasswordResetRequested', { resetId, tokenDigest, expiresAt, origin });
const complete = (tokenDigest: string, now: string): CredentialCommand => ({
  type: 'CompleteReset',
  ...who,
  tokenDigest,
  hash: 'h1',
  now,
});

describe('credential decider: password reset', () => {
  it('given a reset asked for, when completed with its token before expiry, then the reset completes and the new hash is set', () => {
    given(credentialDecider, [passwordSet, requested('r1', 'aa11', '2026-01-01T10:30:00.000Z')])
      .when(complete('aa11', '2026-01-01T10:29:59.999Z'))
      .then([
        { type: 'PasswordResetCompleted', data: { ...who, resetId: 'r1' } },
        { type: 'PasswordSet', data: { ...who, hash: 'h1', reason: 'reset' } },
      ]);
  });

  it('given a reset asked for, when completed at or after its expiry, then refused as invalid', () => {
    const err = given(credentialDecider, [passwordSet, requested('r1', 'aa11', '2026-01-01T10:30:00.000Z')])
      .when(complete('aa11', '2026-01-01T10:30:00.000Z'))
      .thenRefuses(UnauthenticatedError, /invalid, used or expired/);
    expect(err.details).toEqual([{ field: 'token', problem: 'invalid' }]);
  });

  it('given a completed reset, when its token is used again, then refused', () => {
    given(credentialDecider, [
      passwordSet,
      requested('r1', 'aa11', '2026-01-01T10:30:00.000Z'),
      ev('PasswordResetCompleted', { resetId: 'r1' }),
    ])
      .when(complete('aa11', '2026-01-01T10:00:00.000Z'))
      .thenRefuses(UnauthenticatedError);
  });

  it('given a newer reset request, when the older token is used, then refused; the newer one works', () => {
    const past = [
      passwordSet,
      requested('r1', 'aa11', '2026-01-01T10:30:00.000Z'),
      requested('r2', 'bb22', '2026-01-01T10:40:00.000Z'),
    ];
    given(credentialDecider, past)
      .when(complete('aa11', '2026-01-01T10:10:00.000Z'))
      .thenRefuses(UnauthenticatedError);
    given(credentialDecider, past)
      .when(complete('bb22', '2026-01-01T10:10:00.000Z'))
      .then([
        { type: 'PasswordResetCompleted', data: { ...who, resetId: 'r2' } },
        { type: 'PasswordSet', data: { ...who, hash: 'h1', reason: 'reset' } },
      ]);
  });

  it('given no reset asked for, when completing with any digest, then refused', () => {
    given(credentialDecider, [passwordSet])
      .when(complete('aa11', '2026-01-01T10:00:00.000Z'))
      .thenRefuses(UnauthenticatedError);
  });

  it('given a locked account, when a reset completes, then it is also unlocked', () => {
    given(credentialDecider, [
      passwordSet,
      ev('AccountLocked', { until: '2026-01-01T11:00:00.000Z', failures: 5 }),
      requested('r1', 'aa11', '2026-01-01T10:30:00.000Z'),
    ])
      .when(complete('aa11', '2026-01-01T10:05:00.000Z'))
      .then([
        { type: 'PasswordResetCompleted' },
        { type: 'PasswordSet' },
        { type: 'AccountUnlocked', data: { ...who, reason: 'password-reset' } },
      ]);
  });
});

describe('the reset mail', () => {
  const user = { email: 'ada@acme.test', username: 'ada', displayName: 'Ada <Lovelace>' };
  const token = 'prr_0190f1c2-7e4b-7c1a-9d2e-3f4a5b6c7d8e_abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG';

  it('given a public URL with a trailing slash, then the link is <url>/reset?token=..., in text and HTML, with the token and its lifetime', () => {
    const mail = resetMail(user, token, 'https://console.acme.test/', 1800);
    const link = `https://console.acme.test/reset?token=${token}`;
    expect(mail.to).toBe('ada@acme.test');
    expect(mail.text).toContain(link);
    expect(mail.text).toContain(`\n${token}\n`);
    expect(mail.text).toContain('within 30 minutes');
    expect(mail.html).toContain(`href="${link}"`);
    // What the user typed is escaped in the HTML.
    expect(mail.html).toContain('Hello Ada &lt;Lovelace&gt;,');
  });

  it('given no public URL, then the link points at http://localhost:3000', () => {
    expect(resetMail(user, token, null, 600).text).toContain(`http://localhost:3000/reset?token=${token}`);
  });
});
