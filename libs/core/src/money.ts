import { codes as isoCodes } from 'currency-codes';

/**
 * Exact money. Amounts travel as decimal strings with their currency; arithmetic is done on bigints of
 * nano-units (scale 9). Never a float.
 *
 * Two parsers, on purpose:
 * - `parseDecimal` is the bounded INPUT parser: what the API accepts as an amount or a limit (at most
 *   MAX_AMOUNT_INTEGER_DIGITS integer and SCALE fraction digits).
 * - `toNanos` / `parseFigure` read STORED figures back (sums, converted amounts, used and reserved): any number of
 *   integer digits, since sums grow with the number of events and a conversion multiplies an amount by a rate.
 */
export const SCALE = 9;
const FACTOR = 10n ** BigInt(SCALE);
/** The largest number of integer digits an input amount may have (999999999999999999.999999999 at most). */
export const MAX_AMOUNT_INTEGER_DIGITS = 18;
const DECIMAL = new RegExp(`^(-)?(\\d{1,${MAX_AMOUNT_INTEGER_DIGITS}})(?:\\.(\\d{1,${SCALE}}))?$`);
/** A stored figure: same form, any number of integer digits. */
const FIGURE = new RegExp(`^(-)?(\\d+)(?:\\.(\\d{1,${SCALE}}))?$`);

export interface Money {
  amount: string;
  currency: string;
}

function parseWith(re: RegExp, value: string): bigint | null {
  if (typeof value !== 'string') return null;
  const m = re.exec(value);
  if (!m) return null;
  const units = BigInt(m[2]) * FACTOR + BigInt((m[3] ?? '').padEnd(SCALE, '0'));
  return m[1] ? -units : units;
}

/**
 * The input parser: a decimal string of at most 18 integer and 9 fraction digits to nano-units; null if malformed
 * or too large. Use it on what a client sends, never on a stored figure (see parseFigure).
 */
export function parseDecimal(value: string): bigint | null {
  return parseWith(DECIMAL, value);
}

/** A stored figure (any number of integer digits, at most 9 fraction digits) to nano-units; null if malformed. */
export function parseFigure(value: string): bigint | null {
  return parseWith(FIGURE, value);
}

/** Reads a stored figure back, exact at any size (throws if it is not a decimal at all). */
export function toNanos(value: string): bigint {
  const n = parseFigure(value);
  if (n === null) throw new RangeError(`not a decimal amount: ${value}`);
  return n;
}

/** Canonical decimal string: no trailing fraction zeros, no leading zeros, "0" for zero. */
export function formatNanos(nanos: bigint): string {
  const neg = nanos < 0n;
  const abs = neg ? -nanos : nanos;
  const int = abs / FACTOR;
  const frac = (abs % FACTOR).toString().padStart(SCALE, '0').replace(/0+$/, '');
  return `${neg ? '-' : ''}${int}${frac ? `.${frac}` : ''}`;
}

export function addDecimal(a: string, b: string): string {
  return formatNanos(toNanos(a) + toNanos(b));
}

/** Canonical form of a decimal string ("1.50" -> "1.5"). */
export function canonicalDecimal(value: string): string {
  return formatNanos(toNanos(value));
}

export function compareDecimal(a: string, b: string): number {
  const x = toNanos(a);
  const y = toNanos(b);
  return x < y ? -1 : x > y ? 1 : 0;
}

/** An exchange rate: at most 12 integer and 12 fraction digits (999999999999.999999999999 at most), above zero. */
export const MAX_RATE_INTEGER_DIGITS = 12;
export const RATE_SCALE = 12;
const RATE = new RegExp(`^(\\d{1,${MAX_RATE_INTEGER_DIGITS}})(?:\\.(\\d{1,${RATE_SCALE}}))?$`);

/** Parses an exchange rate (positive, at most 12 fraction digits) to units of 1e-12; null if malformed or zero. */
export function parseRate(value: string): bigint | null {
  const m = RATE.exec(value);
  if (!m) return null;
  const r = BigInt(m[1]) * 10n ** BigInt(RATE_SCALE) + BigInt((m[2] ?? '').padEnd(RATE_SCALE, '0'));
  return r > 0n ? r : null;
}

/** amount x rate, rounded half-to-even to the money scale. Exact for any inputs. */
export function convertNanos(nanos: bigint, rate: bigint): bigint {
  const product = nanos * rate;
  const divisor = 10n ** BigInt(RATE_SCALE);
  let q = product / divisor;
  const r = product % divisor;
  const twice = (r < 0n ? -r : r) * 2n;
  if (twice > divisor || (twice === divisor && q % 2n !== 0n)) q += product < 0n ? -1n : 1n;
  return q;
}

/**
 * The ISO 4217 codes, from the maintained `currency-codes` list (the same on every Node build, unlike the runtime's
 * ICU list, which lacks VED, CLF, XAU, XTS and others).
 */
export const CURRENCY_CODES: ReadonlySet<string> = new Set<string>(isoCodes());

/** An ISO 4217 currency code (active codes, funds and metals included). */
export function isCurrency(code: unknown): code is string {
  return typeof code === 'string' && /^[A-Z]{3}$/.test(code) && CURRENCY_CODES.has(code);
}
