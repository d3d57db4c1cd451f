/** Positions are bigints inside, strings at the edges. Checkpoints are zero-padded decimal strings. */
export const POSITION_WIDTH = 20;

export function padPosition(p: bigint): string {
  if (p < 0n) throw new RangeError('negative position');
  return p.toString().padStart(POSITION_WIDTH, '0');
}

export function parsePosition(s: string | null | undefined): bigint {
  if (s === null || s === undefined || s === '') return -1n;
  if (!/^-?\d+$/.test(s)) throw new RangeError(`not a position: ${s}`);
  return BigInt(s);
}

/** -1 means "before the first event". */
export const START: bigint = -1n;
