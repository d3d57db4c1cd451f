/**
 * Exact money. Amounts travel as decimal strings with their currency; arithmetic is done on bigints of
 * nano-units (scale 9). Never a float.
 */
export const SCALE = 9;
const FACTOR = 10n ** BigInt(SCALE);
const DECIMAL = /^(-)?(\d{1,18})(?:\.(\d{1,9}))?$/;

export interface Money {
  amount: string;
  currency: string;
}

/** Parses a decimal string (at most 18 integer and 9 fraction digits) to nano-units; null if malformed. */
export function parseDecimal(value: string): bigint | null {
  const m = DECIMAL.exec(value);
  if (!m) return null;
  const units = BigInt(m[2]) * FACTOR + BigInt((m[3] ?? '').padEnd(SCALE, '0'));
  return m[1] ? -units : units;
}

/** Parses a decimal known to be valid (throws otherwise). */
export function toNanos(value: string): bigint {
  const n = parseDecimal(value);
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

const RATE = /^(\d{1,12})(?:\.(\d{1,12}))?$/;
const RATE_SCALE = 12;

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

const CURRENCIES = new Set<string>(Intl.supportedValuesOf('currency'));

/** An ISO 4217 code this runtime knows. */
export function isCurrency(code: unknown): code is string {
  return typeof code === 'string' && /^[A-Z]{3}$/.test(code) && CURRENCIES.has(code);
}
