import type { Mailer } from '@purser/core';
import { uniqueSuffix } from '../engines';
import type { MailpitMessage } from '../mailpit';

export interface MailerContractOptions {
  /** The From address the mailer was made with. */
  from: string;
  /** Reads back the newest message to an address, once `count` arrived, from the mailbox the mailer delivers to. */
  read(address: string, count?: number): Promise<MailpitMessage>;
  /** One header of a delivered message (its first value), or undefined. */
  header(id: string, name: string): Promise<string | undefined>;
}

/**
 * The Mailer contract: what a sent mail looks like to its recipient. Every adapter that delivers runs it against a
 * real mail server (SmtpMailer against Mailpit).
 */
export function mailerContract(makeMailer: () => Promise<Mailer>, options: MailerContractOptions): void {
  let mailer: Mailer;
  beforeAll(async () => {
    mailer = await makeMailer();
  });
  afterAll(async () => {
    await mailer?.close();
  });
  const recipient = () => `contract-${uniqueSuffix()}@purser.test`;

  it('given a mail with text, HTML and a header, when sent, then it arrives once, as sent, from the configured sender', async () => {
    const to = recipient();
    const { messageId } = await mailer.send({
      to,
      subject: 'Hello from the contract',
      text: 'Plain words.\nSecond line.',
      html: '<p>Plain <b>words</b>.</p>',
      headers: { 'X-Purser-Kind': 'contract' },
    });
    const got = await options.read(to);
    expect(got.To.map((a) => a.Address)).toEqual([to]);
    expect(`${got.From.Name} <${got.From.Address}>`).toBe(options.from);
    expect(got.Subject).toBe('Hello from the contract');
    // Mail travels with CRLF line ends; the lines are what matter.
    expect(got.Text.trim().split(/\r?\n/)).toEqual(['Plain words.', 'Second line.']);
    expect(got.HTML).toContain('<p>Plain <b>words</b>.</p>');
    expect(await options.header(got.ID, 'X-Purser-Kind')).toBe('contract');
    // The id the sender answers is the Message-ID the recipient sees (without its angle brackets).
    expect(messageId.replace(/^<|>$/g, '')).toBe(got.MessageID);
  });

  it('given a text-only mail with accents and an emoji in the subject, when sent, then it arrives intact with no HTML part', async () => {
    const to = recipient();
    await mailer.send({ to, subject: 'Réinitialisation ✓ 🔑', text: 'Crème brûlée: 12,50 €' });
    const got = await options.read(to);
    expect(got.Subject).toBe('Réinitialisation ✓ 🔑');
    expect(got.Text.trim()).toBe('Crème brûlée: 12,50 €');
    expect(got.HTML).toBe('');
  });

  it('given two mails to one address, when sent, then both arrive as two messages with distinct ids', async () => {
    const to = recipient();
    const a = await mailer.send({ to, subject: 'first', text: '1' });
    const b = await mailer.send({ to, subject: 'second', text: '2' });
    expect(a.messageId).not.toBe(b.messageId);
    const newest = await options.read(to, 2);
    expect(newest.Subject).toBe('second');
  });
}
