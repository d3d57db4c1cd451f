import { AuditEntry, ZERO_HASH, chainHash } from './entry';

export type ChainProblem = 'altered' | 'missing' | 'reordered';

export interface ChainReport {
  ok: boolean;
  entries: number;
  firstBadSeq?: number;
  problem?: ChainProblem;
}

/**
 * Checks entries one at a time, in the order given: each must be the next seq (from 1), name the previous entry's
 * hash and hash to what it says. `later(seq)` tells whether an entry expected here comes further on (a reordering,
 * not a removal); without it a gap is a removal.
 */
export class ChainVerifier {
  private expected = 1;
  private prevHash = ZERO_HASH;
  private count = 0;
  private bad: { seq: number; problem: ChainProblem } | null = null;

  constructor(private readonly later: (seq: number) => boolean = () => false) {}

  /** false once the chain is broken (the rest need not be read). */
  push(entry: AuditEntry): boolean {
    if (this.bad) return false;
    this.count++;
    const seq = Number(entry.seq);
    if (!Number.isInteger(seq)) {
      this.bad = { seq: this.expected, problem: 'altered' };
      return false;
    }
    if (seq !== this.expected) {
      // An earlier seq after a later one, or the expected one further on: moved. Otherwise it is gone.
      const moved = seq < this.expected || this.later(this.expected);
      this.bad = { seq: this.expected, problem: moved ? 'reordered' : 'missing' };
      return false;
    }
    if (entry.prevHash !== this.prevHash || chainHash(this.prevHash, entry) !== entry.hash) {
      this.bad = { seq, problem: 'altered' };
      return false;
    }
    this.prevHash = entry.hash;
    this.expected++;
    return true;
  }

  /** The chain's last hash so far (64 zeros before the first entry). */
  get head(): { seq: number; hash: string } {
    return { seq: this.expected - 1, hash: this.prevHash };
  }

  /** Marks the chain broken from outside (e.g. entries the head counts that are not there). */
  fail(seq: number, problem: ChainProblem): void {
    this.bad ??= { seq, problem };
  }

  report(): ChainReport {
    return this.bad
      ? { ok: false, entries: this.count, firstBadSeq: this.bad.seq, problem: this.bad.problem }
      : { ok: true, entries: this.count };
  }
}

/**
 * Verifies a JSON-lines export (one entry per line, in seq order, from seq 1): the first entry altered, removed or
 * reordered. A line that is not an entry counts as altered.
 */
export function verifyChain(lines: Iterable<string>): ChainReport {
  const entries: Array<AuditEntry | null> = [];
  for (const line of lines) {
    if (!line.trim()) continue;
    try {
      const e = JSON.parse(line) as AuditEntry;
      entries.push(e && typeof e === 'object' ? e : null);
    } catch {
      entries.push(null);
    }
  }
  const seqs = entries.map((e) => Number(e?.seq));
  let at = 0;
  const verifier = new ChainVerifier((seq) => seqs.indexOf(seq, at + 1) > at);
  for (; at < entries.length; at++) {
    const e = entries[at];
    if (!e) {
      verifier.fail(verifier.head.seq + 1, 'altered');
      break;
    }
    if (!verifier.push(e)) break;
  }
  return verifier.report();
}
