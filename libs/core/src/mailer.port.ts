import { NotReadyError } from './errors';

export const MAILER = Symbol('Mailer');

/** One mail to one recipient: plain text always, HTML optionally (the text is what a plain client shows). */
export interface OutgoingMail {
  /** One address, `ada@acme.test` or `Ada <ada@acme.test>`. */
  to: string;
  subject: string;
  text: string;
  html?: string;
  /** Extra headers (e.g. `X-Purser-Kind`); never a secret, since relays log headers. */
  headers?: Record<string, string>;
}

/** Sends mail. The adapter is picked from the configuration: SMTP when an address is set, else "mail off". */
export interface Mailer {
  /** Resolves once the server accepted the mail, with the Message-ID it carries; rejects when it was not. */
  send(mail: OutgoingMail): Promise<{ messageId: string }>;
  /** Whether mails can leave at all (false for the "mail off" mailer). */
  readonly enabled: boolean;
  close(): Promise<void>;
}

/** What a "mail off" mailer answers: no mail server is configured. */
export class MailOffError extends NotReadyError {
  constructor() {
    super('mail is off: no mail server is configured (PURSER_SMTP_URL)', [
      { field: 'PURSER_SMTP_URL', problem: 'not set' },
    ]);
  }
}

/** The mailer when no mail server is configured: every send is refused (MailOffError), nothing leaves. */
export class MailOffMailer implements Mailer {
  readonly enabled = false;

  async send(_mail: OutgoingMail): Promise<{ messageId: string }> {
    throw new MailOffError();
  }

  async close(): Promise<void> {}
}
