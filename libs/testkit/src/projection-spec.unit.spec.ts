import { Projection, ReadStore, RecordedEvent } from '@purser/core';
import { projectionSpec } from './projection-spec';

// The projection spec itself: it passes a projection that is right and fails one that is not.

/** Counts every delivered event, without any guard: right once, wrong on a redelivery. */
const naiveCounter = (): Projection => ({
  name: 'naive-counter',
  filter: { eventTypes: ['Counted'] },
  collections: [{ name: 'counts' }],
  async handle(events: RecordedEvent[], store: ReadStore) {
    for (let i = 0; i < events.length; i++)
      await store.update('counts', 'c', { $inc: { n: 1 } }, { upsert: true });
  },
});

describe('projectionSpec', () => {
  it('given events, then it compares the named collection whole and lets only the filtered events through', async () => {
    await projectionSpec(naiveCounter)
      .given([
        { type: 'Counted', data: {} },
        { type: 'Ignored', data: {} },
        { type: 'Counted', data: {} },
      ])
      .then({ counts: [{ _id: 'c', n: 2 }] });
  });

  it('given documents that differ from the expected ones, then it fails naming the collection', async () => {
    await expect(
      projectionSpec(naiveCounter)
        .given([{ type: 'Counted', data: {} }])
        .then({ counts: [{ _id: 'c', n: 2 }] }),
    ).rejects.toThrow(/collection counts/);
  });

  it('given a projection that counts a redelivered event again, then thenIdempotent fails', async () => {
    await expect(
      projectionSpec(naiveCounter)
        .given([{ type: 'Counted', data: {} }])
        .thenIdempotent({ counts: [{ _id: 'c', n: 1 }] }),
    ).rejects.toThrow(/delivered again in one batch/);
  });
});
