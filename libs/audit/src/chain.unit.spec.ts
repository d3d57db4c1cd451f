import { ZERO_HASH, chainHash } from './entry';
import { verifyChain } from './chain';

/** A valid chain of n entries of one org, as JSON lines. */
function chain(n: number): string[] {
  let prevHash = ZERO_HASH;
  const lines: string[] = [];
  for (let seq = 1; seq <= n; seq++) {
    const facts = {
      eventId: `e${seq}`,
      org: 'o',
      seq,
      position: String(seq * 10).padStart(20, '0'),
      occurredAt: '2026-01-15T10:00:00.000Z',
      type: 'UserCreated',
      streamId: `user-u${seq}`,
      actor: { type: 'system' as const, id: 'purser' },
      correlationId: `c${seq}`,
      entityType: 'user',
      entityId: `u${seq}`,
      data: { userId: `u${seq}`, name: `n${seq}` },
    };
    const hash = chainHash(prevHash, facts);
    lines.push(JSON.stringify({ ...facts, prevHash, hash }));
    prevHash = hash;
  }
  return lines;
}

describe('verifyChain', () => {
  it('given an intact export, then ok with the number of entries', () => {
    expect(verifyChain(chain(5))).toEqual({ ok: true, entries: 5 });
  });

  it("given one line's data altered, then altered at its seq", () => {
    const lines = chain(5);
    const e = JSON.parse(lines[2]);
    e.data.name = 'mallory';
    lines[2] = JSON.stringify(e);
    expect(verifyChain(lines)).toMatchObject({ ok: false, firstBadSeq: 3, problem: 'altered' });
  });

  it('given an altered line whose hash was recomputed, then the next entry no longer chains to it', () => {
    const lines = chain(5);
    const e = JSON.parse(lines[1]);
    e.data.name = 'mallory';
    const { prevHash, hash: _h, ...facts } = e;
    lines[1] = JSON.stringify({ ...facts, prevHash, hash: chainHash(prevHash, facts) });
    expect(verifyChain(lines)).toMatchObject({ ok: false, firstBadSeq: 3, problem: 'altered' });
  });

  it('given a line removed (also the first or the last but one), then missing at its seq', () => {
    for (const at of [0, 2, 3]) {
      const lines = chain(5);
      lines.splice(at, 1);
      expect(verifyChain(lines)).toMatchObject({ ok: false, firstBadSeq: at + 1, problem: 'missing' });
    }
  });

  it('given two lines swapped, then reordered at the first seq out of place', () => {
    const lines = chain(5);
    [lines[1], lines[3]] = [lines[3], lines[1]];
    expect(verifyChain(lines)).toMatchObject({ ok: false, firstBadSeq: 2, problem: 'reordered' });
  });

  it('given a line that is not JSON, then altered', () => {
    const lines = chain(3);
    lines[1] = '{not json';
    expect(verifyChain(lines)).toMatchObject({ ok: false, firstBadSeq: 2, problem: 'altered' });
  });
});
