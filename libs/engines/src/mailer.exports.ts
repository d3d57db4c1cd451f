import { MailOffMailer, type Mailer } from '@purser/core';
import type { EngineLogger } from './select';

// Types only: the SMTP adapter (and nodemailer) load when mail is configured (createMailer) or when imported from
// '@purser/engines/mail/smtp-mailer'.
export type { SmtpMailer, SmtpMailerOptions } from './mail/smtp-mailer';

/** What the mailer selection reads (the platform's PurserConfig.access satisfies it). */
export interface MailConfig {
  smtpUrl: string | null;
  mailFrom: string;
}

export interface MailLogger extends EngineLogger {
  warn(fields: object, message: string): void;
}

/** The URL without its credentials, for logs. */
const redact = (url: string) => url.replace(/\/\/([^@/]+)@/, '//***@');

/**
 * SMTP when PURSER_SMTP_URL is set (nodemailer is loaded only then), otherwise the "mail off" mailer, whose sends
 * are refused. Logs the choice once.
 */
export async function createMailer(config: MailConfig, logger: MailLogger): Promise<Mailer> {
  if (!config.smtpUrl) {
    logger.warn(
      { mail: 'off' },
      'mail is off (PURSER_SMTP_URL is not set): password resets cannot be delivered',
    );
    return new MailOffMailer();
  }
  const { SmtpMailer } = await import('./mail/smtp-mailer');
  const mailer = new SmtpMailer({ url: config.smtpUrl, from: config.mailFrom });
  logger.info({ mail: `smtp ${redact(config.smtpUrl)}`, from: config.mailFrom }, 'mail selected');
  return mailer;
}
