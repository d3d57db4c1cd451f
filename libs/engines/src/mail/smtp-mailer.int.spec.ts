import { MailOffError, MailOffMailer } from '@purser/core';
import { Mailpit, describeMail, mailerContract, uniqueSuffix } from '@purser/testkit';
import { createMailer } from '../mailer.exports';
import { SmtpMailer, smtpSettings } from './smtp-mailer';

const FROM = 'Purser Contract <contract@purser.test>';
const quiet = { info: () => undefined, warn: () => undefined };

describeMail('SmtpMailer against Mailpit', ({ smtpUrl, mailpitUrl }) => {
  const mailpit = new Mailpit(mailpitUrl);

  describe('the Mailer contract', () => {
    mailerContract(async () => new SmtpMailer({ url: smtpUrl, from: FROM }), {
      from: FROM,
      read: (address, count) => mailpit.waitForMessageTo(address, count),
      header: async (id, name) => (await mailpit.headers(id))[name]?.[0],
    });
  });

  it('given credentials in the URL (percent-encoded), when sending, then the server accepts the login and the mail', async () => {
    const u = new URL(smtpUrl);
    u.username = 'purser';
    u.password = encodeURIComponent('p@ss:wörd/1');
    const mailer = new SmtpMailer({ url: u.toString(), from: FROM });
    const to = `auth-${uniqueSuffix()}@purser.test`;
    try {
      await mailer.send({ to, subject: 'with a login', text: 'ok' });
      expect((await mailpit.waitForMessageTo(to)).Subject).toBe('with a login');
    } finally {
      await mailer.close();
    }
  });

  it('given the selection with PURSER_SMTP_URL set, when a mailer is created, then it is SMTP and it delivers', async () => {
    const lines: string[] = [];
    const mailer = await createMailer(
      { smtpUrl, mailFrom: FROM },
      { info: (_f, m) => lines.push(m), warn: (_f, m) => lines.push(m) },
    );
    const to = `selected-${uniqueSuffix()}@purser.test`;
    try {
      expect(mailer.enabled).toBe(true);
      await mailer.send({ to, subject: 'selected', text: 'ok' });
      expect((await mailpit.waitForMessageTo(to)).From.Address).toBe('contract@purser.test');
      expect(lines).toEqual(['mail selected']);
    } finally {
      await mailer.close();
    }
  });
});

describe('SmtpMailer without a reachable server, and mail off', () => {
  it('given nothing listening at the address, when sending, then the send rejects (the caller learns the mail did not leave)', async () => {
    const mailer = new SmtpMailer({ url: 'smtp://127.0.0.1:1', from: FROM, timeoutMs: 2_000 });
    await expect(mailer.send({ to: 'x@purser.test', subject: 's', text: 't' })).rejects.toThrow();
    await mailer.close();
  });

  it('given smtp:// and smtps:// URLs, then plain and TLS transports with the default ports and decoded logins', () => {
    expect(smtpSettings('smtp://mail.acme.test')).toEqual({
      host: 'mail.acme.test',
      port: 587,
      secure: false,
      auth: undefined,
    });
    expect(smtpSettings('smtps://ada:s%40cret@mail.acme.test:2465')).toEqual({
      host: 'mail.acme.test',
      port: 2465,
      secure: true,
      auth: { user: 'ada', pass: 's@cret' },
    });
  });

  it('given no PURSER_SMTP_URL, when a mailer is created, then mail is off: one warning, and every send is refused', async () => {
    const lines: string[] = [];
    const mailer = await createMailer(
      { smtpUrl: null, mailFrom: FROM },
      { ...quiet, warn: (_f, m) => lines.push(m) },
    );
    expect(mailer).toBeInstanceOf(MailOffMailer);
    expect(mailer.enabled).toBe(false);
    expect(lines).toEqual(['mail is off (PURSER_SMTP_URL is not set): password resets cannot be delivered']);
    await expect(mailer.send({ to: 'x@purser.test', subject: 's', text: 't' })).rejects.toBeInstanceOf(
      MailOffError,
    );
  });
});
