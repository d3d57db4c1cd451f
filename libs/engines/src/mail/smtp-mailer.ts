import { createTransport } from 'nodemailer';
import type { Mailer, OutgoingMail } from '@purser/core';

export interface SmtpMailerOptions {
  /** smtp://[user:password@]host[:port] (plain, STARTTLS when the server offers it) or smtps://... (TLS). */
  url: string;
  /** The From address of every mail, e.g. `Purser <purser@acme.test>`. */
  from: string;
  /** Bounds on connecting, the greeting and a silent socket (default 10 s each): a dead relay fails a send. */
  timeoutMs?: number;
}

/** The transport's settings from the URL: user and password may be percent-encoded. */
export function smtpSettings(url: string) {
  const u = new URL(url);
  if (u.protocol !== 'smtp:' && u.protocol !== 'smtps:') throw new Error(`not an SMTP URL: ${u.protocol}`);
  const secure = u.protocol === 'smtps:';
  return {
    host: u.hostname.replace(/^\[(.*)\]$/, '$1'),
    port: u.port ? Number(u.port) : secure ? 465 : 587,
    secure,
    auth: u.username
      ? { user: decodeURIComponent(u.username), pass: decodeURIComponent(u.password) }
      : undefined,
  };
}

/** The Mailer port over SMTP (nodemailer), one connection per mail: nothing stays open between sends. */
export class SmtpMailer implements Mailer {
  readonly enabled = true;
  private readonly transport;

  constructor(private readonly options: SmtpMailerOptions) {
    const timeout = options.timeoutMs ?? 10_000;
    this.transport = createTransport({
      ...smtpSettings(options.url),
      connectionTimeout: timeout,
      greetingTimeout: timeout,
      socketTimeout: timeout,
    });
  }

  async send(mail: OutgoingMail): Promise<{ messageId: string }> {
    const info = await this.transport.sendMail({
      from: this.options.from,
      to: mail.to,
      subject: mail.subject,
      text: mail.text,
      ...(mail.html !== undefined ? { html: mail.html } : {}),
      ...(mail.headers ? { headers: mail.headers } : {}),
    });
    if (info.rejected.length > 0) throw new Error(`the mail server refused the recipient: ${mail.to}`);
    return { messageId: info.messageId };
  }

  async close(): Promise<void> {
    this.transport.close();
  }
}
