import { AllStreamRecordedEvent, END, FORWARDS, ReadPosition, START } from '@eventstore/db-client';
import { AllBatch } from '@purser/core';
import { PageReader, comparePositions } from '../esdb-scan';

/*
 * Fixtures of the server-free unit specs. The $all model (`logReader`) follows EventStoreDB's documented read
 * semantics (forwards inclusive of the start position, backwards exclusive of it); it is a model for the tests,
 * not the engine. The adapter's contract suite runs against a real server in esdb-event-store.int.spec.ts.
 */

export function ev(
  commit: bigint,
  opts: { prepare?: bigint; type?: string; streamId?: string; revision?: bigint } = {},
): AllStreamRecordedEvent {
  return {
    streamId: opts.streamId ?? 'acct-1',
    id: `00000000-0000-4000-8000-${commit.toString().padStart(12, '0')}`,
    revision: opts.revision ?? 0n,
    type: opts.type ?? 'UsageRecorded',
    isJson: true,
    created: new Date(0),
    data: { at: commit.toString() },
    metadata: { eventId: `evt-${commit}` },
    position: { commit, prepare: opts.prepare ?? commit },
  } as AllStreamRecordedEvent;
}

/** A $all page reader over an in-memory log, with the read semantics EventStoreDB documents. */
export function logReader(log: AllStreamRecordedEvent[], calls: ReadPosition[] = []): PageReader {
  const sorted = [...log].sort((a, b) => comparePositions(a.position, b.position));
  return async (from, direction, maxCount) => {
    calls.push(from);
    if (direction === FORWARDS) {
      const start =
        from === START
          ? 0
          : from === END
            ? sorted.length
            : sorted.findIndex((e) => comparePositions(e.position, from) >= 0);
      return (start < 0 ? [] : sorted.slice(start)).slice(0, maxCount);
    }
    const before =
      from === END
        ? sorted
        : from === START
          ? []
          : sorted.filter((e) => comparePositions(e.position, from) < 0);
    return [...before].reverse().slice(0, maxCount);
  };
}

export function commits(batch: AllBatch): bigint[] {
  return batch.events.map((e) => e.position);
}
