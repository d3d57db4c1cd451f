import { formatNanos } from '@purser/core';

/**
 * A statistic shown as money: rounded half-to-even to 9 decimal places (nano-units) and written as a canonical
 * decimal string. The statistics are floats; this is where they become figures.
 */
export function moneyString(value: number): string {
  if (!Number.isFinite(value)) throw new RangeError(`not a finite amount: ${value}`);
  const scaled = value * 1e9;
  const floor = Math.floor(scaled);
  const frac = scaled - floor;
  const units = frac > 0.5 || (frac === 0.5 && floor % 2 !== 0) ? floor + 1 : floor;
  return formatNanos(BigInt(units));
}
