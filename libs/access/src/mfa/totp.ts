import { randomInt } from 'node:crypto';
import { Secret, TOTP } from 'otpauth';
import { toDataURL } from 'qrcode';

/** RFC 6238 as authenticator apps expect it: SHA1, 6 digits, 30 s steps; a code of the step before or after passes. */
export const TOTP_PARAMS = { algorithm: 'SHA1', digits: 6, period: 30, window: 1 } as const;
export const TOTP_ISSUER = 'Purser';

/** What an enrolment shows once: the secret, the otpauth:// URI and the same URI as a QR code. */
export interface TotpEnrolment {
  secret: string;
  otpauthUri: string;
  qrCode: string;
}

function totpOf(secretBase32: string, username = 'user'): TOTP {
  return new TOTP({
    issuer: TOTP_ISSUER,
    label: username,
    algorithm: TOTP_PARAMS.algorithm,
    digits: TOTP_PARAMS.digits,
    period: TOTP_PARAMS.period,
    secret: Secret.fromBase32(secretBase32),
  });
}

/** A fresh 160-bit secret (base32), the size RFC 4226 recommends for SHA1. */
export function newTotpSecret(): string {
  return new Secret({ size: 20 }).base32;
}

export async function totpEnrolment(secretBase32: string, username: string): Promise<TotpEnrolment> {
  const otpauthUri = totpOf(secretBase32, username).toString();
  const qrCode = await toDataURL(otpauthUri, { type: 'image/png', errorCorrectionLevel: 'M', margin: 2 });
  return { secret: secretBase32, otpauthUri, qrCode };
}

/** The time step a code belongs to (within the window around `now`), or null when it is no code of this secret. */
export function totpStepOf(secretBase32: string, code: string, now: string): number | null {
  const token = code.replace(/\s+/g, '');
  if (!/^\d{6}$/.test(token)) return null;
  const timestamp = Date.parse(now);
  const delta = totpOf(secretBase32).validate({ token, timestamp, window: TOTP_PARAMS.window });
  if (delta === null) return null;
  return TOTP.counter({ period: TOTP_PARAMS.period, timestamp }) + delta;
}

/** Letters and digits that cannot be misread for one another (no 0/o, 1/l/i). */
const RECOVERY_ALPHABET = 'abcdefghjkmnpqrstuvwxyz23456789';
export const RECOVERY_CODE_COUNT = 10;
export const RECOVERY_CODE_PATTERN = /^[a-z0-9]{4}-[a-z0-9]{4}-[a-z0-9]{4}$/;

/** Ten one-time codes `xxxx-xxxx-xxxx` (about 59 bits each) from the system's random source. */
export function newRecoveryCodes(count = RECOVERY_CODE_COUNT): string[] {
  const group = () =>
    Array.from({ length: 4 }, () => RECOVERY_ALPHABET[randomInt(RECOVERY_ALPHABET.length)]).join('');
  return Array.from({ length: count }, () => `${group()}-${group()}-${group()}`);
}

/** A recovery code as typed (any case, spaces, with or without dashes) in the form it was digested in. */
export function normalizeRecoveryCode(typed: string): string {
  const raw = typed.toLowerCase().replace(/[\s-]+/g, '');
  return raw.length === 12 ? `${raw.slice(0, 4)}-${raw.slice(4, 8)}-${raw.slice(8)}` : raw;
}
