import { eventually } from './engines';

/**
 * Mailpit (deploy/local/mailpit.sh): a real SMTP server whose mailbox is read over its HTTP API. The mail suites
 * run only when both addresses are set (.ci/run sets them); otherwise they skip with one clear line.
 */
export interface MailpitEnv {
  smtpUrl: string;
  mailpitUrl: string;
}

const announced = new Set<string>();

export function mailpitEnv(suite: string): MailpitEnv | undefined {
  const smtpUrl = process.env.PURSER_SMTP_URL?.trim();
  const mailpitUrl = process.env.MAILPIT_URL?.trim();
  if (smtpUrl && mailpitUrl) return { smtpUrl, mailpitUrl };
  if (!announced.has(suite)) {
    announced.add(suite);
    process.stderr.write(
      `SKIPPED suite "${suite}": PURSER_SMTP_URL and MAILPIT_URL are not both set; run deploy/local/mailpit.sh start and set them (.ci/run does)\n`,
    );
  }
  return undefined;
}

/** describe() when Mailpit is configured, describe.skip() (with one printed line) when it is not. */
export function describeMail(suite: string, fn: (env: MailpitEnv) => void): void {
  const env = mailpitEnv(suite);
  if (env) describe(suite, () => fn(env));
  else
    describe.skip(`${suite} [skipped: PURSER_SMTP_URL / MAILPIT_URL not set]`, () =>
      fn({ smtpUrl: 'smtp://skipped.invalid:25', mailpitUrl: 'http://skipped.invalid' }));
}

export interface MailpitAddress {
  Name: string;
  Address: string;
}

/** A message as Mailpit's API shows it (GET /api/v1/message/{ID}); only the fields the suites read. */
export interface MailpitMessage {
  ID: string;
  MessageID: string;
  From: MailpitAddress;
  To: MailpitAddress[];
  Subject: string;
  Text: string;
  HTML: string;
}

/** Reads the Mailpit mailbox. Suites share it: give each test its own recipient address and read by it. */
export class Mailpit {
  constructor(private readonly base: string) {}

  private async json<T>(path: string): Promise<T> {
    const res = await fetch(this.base.replace(/\/$/, '') + path);
    if (!res.ok) throw new Error(`Mailpit ${path}: HTTP ${res.status}`);
    return (await res.json()) as T;
  }

  /** The summaries of every message to this address, newest first (GET /api/v1/messages). */
  async summariesTo(address: string): Promise<Array<{ ID: string; To: MailpitAddress[] }>> {
    const page = await this.json<{ messages: Array<{ ID: string; To: MailpitAddress[] }> }>(
      '/api/v1/messages?limit=500',
    );
    const to = address.toLowerCase();
    return page.messages.filter((m) => m.To.some((a) => a.Address.toLowerCase() === to));
  }

  /** One message in full (GET /api/v1/message/{ID}). */
  message(id: string): Promise<MailpitMessage> {
    return this.json<MailpitMessage>(`/api/v1/message/${encodeURIComponent(id)}`);
  }

  /** The message's headers (GET /api/v1/message/{ID}/headers): each name with its values. */
  headers(id: string): Promise<Record<string, string[]>> {
    return this.json<Record<string, string[]>>(`/api/v1/message/${encodeURIComponent(id)}/headers`);
  }

  /** Waits until `count` messages to this address arrived, and answers the newest in full. */
  async waitForMessageTo(address: string, count = 1, timeoutMs = 10_000): Promise<MailpitMessage> {
    const found = await eventually(
      () => this.summariesTo(address),
      (list) => list.length >= count,
      { timeoutMs, intervalMs: 50, what: `${count} mail(s) to ${address} in Mailpit` },
    );
    return this.message(found[0].ID);
  }
}
