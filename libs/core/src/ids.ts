import { randomBytes } from 'node:crypto';

/**
 * UUID version 7: a millisecond timestamp followed by random bits. Ids made close in time sort close together, so
 * the event store's unique index on event ids grows at its end instead of at random places (appends at 1M events
 * run several times faster than with random v4 ids).
 */
const POOL_SIZE = 4096;
let pool = randomBytes(POOL_SIZE);
let offset = 0;

export function uuidv7(now = Date.now()): string {
  // Random bits come from a pooled buffer: one randomBytes call per 256 ids instead of one per id.
  if (offset + 16 > POOL_SIZE) {
    pool = randomBytes(POOL_SIZE);
    offset = 0;
  }
  const b = Buffer.from(pool.subarray(offset, offset + 16));
  offset += 16;
  let ts = now;
  for (let i = 5; i >= 0; i--) {
    b[i] = ts % 256;
    ts = Math.floor(ts / 256);
  }
  b[6] = (b[6] & 0x0f) | 0x70;
  b[8] = (b[8] & 0x3f) | 0x80;
  const h = b.toString('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}
