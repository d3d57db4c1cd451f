import {
  Actor,
  Document,
  EventMetadata,
  EventRegistry,
  Projection,
  ReadStore,
  RecordedEvent,
  SYSTEM_ACTOR,
} from '@purser/core';
import { MemoryReadStore } from '@purser/engines/memory/memory-read-store';

/**
 * Given events, then exactly these documents: a projection run over the in-memory read store, as the projection
 * runner runs it (its collections ensured first, only the events its filter lets through, in position order, each
 * upcast by the registry when one is given).
 *
 *   await projectionSpec(() => new ExpenditureProjection())
 *     .given([{ type: 'UsageRecorded', data: usage }])
 *     .then({ exp_totals: [{ _id: ..., total: ... }] });
 *
 *   // the same, then every event delivered again (as after a failure or a restart): the documents do not change
 *   await projectionSpec(...).given(events).thenIdempotent({ exp_totals: [...] });
 *
 * `then` compares each named collection whole: its documents in _id order, each with toEqual (use
 * expect.objectContaining(...) for a part of one, expect.any(String) for a field whose value does not matter).
 * Collections not named are not looked at.
 */

/** One given event: a type and data; the rest (stream, metadata) is filled in unless given. */
export interface GivenEvent {
  type: string;
  data: unknown;
  /** Default 'given-stream'. Revisions count up per stream. */
  streamId?: string;
  /** Merged over the defaults: eventId `evt-<position>`, system actor, the data's orgId, occurredAt DEFAULT_AT. */
  metadata?: Partial<EventMetadata>;
  /** Shorthand for metadata.actor. */
  actor?: Actor;
  /** Shorthand for metadata.occurredAt. */
  occurredAt?: string;
}

export interface ProjectionSpecOptions {
  /** Upcasts every delivered event, as the runner does. */
  registry?: EventRegistry;
  /** Events per delivered batch (default: all the given events in one batch). */
  batchSize?: number;
}

/** Expected documents, per collection name. */
export type ExpectedDocuments = Record<string, unknown[]>;

/** The business time given events carry unless they say otherwise. */
export const DEFAULT_AT = '2026-01-15T10:00:00.000Z';

export function projectionSpec(
  projection: Projection | (() => Projection),
  options: ProjectionSpecOptions = {},
) {
  const make = typeof projection === 'function' ? projection : () => projection;
  return {
    given(events: Array<GivenEvent | RecordedEvent>) {
      const recorded = recordAll(events);
      return {
        /** Delivers the events once; each named collection then holds exactly the expected documents. */
        async then(expected: ExpectedDocuments): Promise<ReadStore> {
          const run = await start(make(), options);
          await run.deliver(recorded, options.batchSize);
          await expectDocuments(run.store, expected);
          return run.store;
        },
        /**
         * Delivers the events, checks, then delivers them all again twice (after reset(), as the runner does before
         * redelivering): as one batch, then one event at a time; and to a new instance of the projection (a restart)
         * when given a factory. After each delivery the documents are the same expected ones.
         */
        async thenIdempotent(expected: ExpectedDocuments): Promise<ReadStore> {
          const first = make();
          const run = await start(first, options);
          await run.deliver(recorded, options.batchSize);
          await expectDocuments(run.store, expected, 'after the first delivery');
          first.reset?.();
          await run.deliver(recorded, recorded.length || 1);
          await expectDocuments(run.store, expected, 'after every event was delivered again in one batch');
          first.reset?.();
          await run.deliver(recorded, 1);
          await expectDocuments(run.store, expected, 'after every event was delivered again one by one');
          const restarted = make();
          if (restarted !== first) {
            await run.with(restarted).deliver(recorded, options.batchSize);
            await expectDocuments(run.store, expected, 'after a restarted projection got every event again');
          }
          return run.store;
        },
      };
    },
  };
}

async function start(projection: Projection, options: ProjectionSpecOptions) {
  const store = new MemoryReadStore();
  for (const c of projection.collections) await store.ensureCollection(c);
  const runner = (p: Projection) => ({
    store,
    with: runner,
    async deliver(events: RecordedEvent[], batchSize = events.length || 1): Promise<void> {
      const wanted = events.filter((e) => passes(p, e)).map((e) => options.registry?.upcast(e) ?? e);
      for (let i = 0; i < wanted.length; i += batchSize)
        await p.handle(wanted.slice(i, i + batchSize), store);
    },
  });
  return runner(projection);
}

function passes(p: Projection, e: RecordedEvent): boolean {
  const types = p.filter?.eventTypes;
  const prefixes = p.filter?.streamPrefixes;
  if (types?.length && !types.includes(e.type)) return false;
  if (prefixes?.length && !prefixes.some((prefix) => e.streamId.startsWith(prefix))) return false;
  return true;
}

function isRecorded(e: GivenEvent | RecordedEvent): e is RecordedEvent {
  return typeof (e as RecordedEvent).position === 'bigint';
}

/** Positions 1, 2, 3... in the order given (recorded events keep theirs), revisions counting up per stream. */
function recordAll(events: Array<GivenEvent | RecordedEvent>): RecordedEvent[] {
  const revisions = new Map<string, bigint>();
  let position = 0n;
  return events.map((e) => {
    if (isRecorded(e)) {
      position = e.position;
      return e;
    }
    position++;
    const streamId = e.streamId ?? 'given-stream';
    const revision = (revisions.get(streamId) ?? -1n) + 1n;
    revisions.set(streamId, revision);
    const orgId = (e.data as { orgId?: unknown } | null)?.orgId;
    const metadata: EventMetadata = {
      eventId: `evt-${position}`,
      correlationId: `corr-${position}`,
      causationId: null,
      actor: e.actor ?? SYSTEM_ACTOR,
      occurredAt: e.occurredAt ?? DEFAULT_AT,
      schemaVersion: 1,
      orgId: typeof orgId === 'string' ? orgId : null,
      ...e.metadata,
    };
    return { streamId, revision, position, type: e.type, data: e.data, metadata } as RecordedEvent;
  });
}

/** Each named collection holds exactly the expected documents (in _id order). */
export async function expectDocuments(store: ReadStore, expected: ExpectedDocuments, when?: string) {
  for (const [collection, docs] of Object.entries(expected)) {
    const actual = await allDocuments(store, collection);
    try {
      expect(actual).toEqual(docs);
    } catch (err) {
      if (err instanceof Error)
        err.message = `collection ${collection}${when ? ` ${when}` : ''}:\n${err.message}`;
      throw err;
    }
  }
}

async function allDocuments(store: ReadStore, collection: string): Promise<Document[]> {
  const all: Document[] = [];
  let cursor: string | null = null;
  do {
    const page: { items: Document[]; nextCursor: string | null } = await store.find(
      collection,
      {},
      { sort: { _id: 1 }, limit: 1000, cursor },
    );
    all.push(...page.items);
    cursor = page.nextCursor;
  } while (cursor);
  return all;
}
