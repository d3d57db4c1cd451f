/** Checkpoints and failures of projections, shared between processes, and the read-your-writes waiter on them. */
import { NotReadyError } from './errors';
import { padPosition, parsePosition } from './position';
import { ReadStore } from './read-store.port';
import type { ProjectionRunner } from './projection';

export const CHECKPOINTS = 'projection_checkpoints';

/** What stopped a projection: the event it could not handle, where, and why. */
export interface ProjectionFailure {
  projection: string;
  /** The handler's error message. */
  error: string;
  /**
   * The event the projection stopped at, once known: when the failed batch held that one event, or once the retry
   * delivered the batch again one event at a time (a batch of several that failed is isolated that way).
   */
  event: { type: string; eventId: string; streamId: string; position: string } | null;
  /** That event's position; while it is not isolated yet, the first position of the failed batch. */
  position: string;
  /** The failed batch: its first and last positions and its number of events (none when reading failed). */
  batch: { from: string; to: string; events: number } | null;
  /** When it first failed at this position, and how many attempts in a row have failed. */
  since: string;
  attempts: number;
}

/** A projection that failed at least this many times in a row on one position is stuck, not just hit by a blip. */
export const STUCK_AFTER_ATTEMPTS = 2;

/** Whether a failure is confirmed (it failed again on the retry): waiting on the projection is then pointless. */
export function isStuck(failure: ProjectionFailure | null | undefined): failure is ProjectionFailure {
  return !!failure && failure.attempts >= STUCK_AFTER_ATTEMPTS;
}

/** One line naming the failed projection, the event and position it stopped at, and the error. */
export function describeFailure(f: ProjectionFailure): string {
  const at = f.event
    ? `event ${f.event.type} ${f.event.eventId} (stream ${f.event.streamId}) at position ${f.position}`
    : f.batch
      ? `a batch of ${f.batch.events} events at positions ${f.batch.from}-${f.batch.to}`
      : `position ${f.position}`;
  return `projection ${f.projection} failed on ${at}: ${f.error}`;
}

/** Checkpoints: one document per projection, the position as a zero-padded decimal string, updated compare-and-set. */
export class CheckpointStore {
  constructor(private readonly store: ReadStore) {}

  async init(): Promise<void> {
    await this.store.ensureCollection({ name: CHECKPOINTS });
  }

  async get(name: string): Promise<bigint> {
    return (await this.read(name)).position;
  }

  /** The checkpoint and, while the projection is failed, its failure (shared with processes that do not run it). */
  async read(name: string): Promise<{ position: bigint; failure: ProjectionFailure | null }> {
    const doc = await this.store.get<{ _id: string; position: string; failure?: ProjectionFailure | null }>(
      CHECKPOINTS,
      name,
    );
    return { position: doc ? parsePosition(doc.position) : -1n, failure: doc?.failure ?? null };
  }

  /** Records a projection's failure next to its checkpoint (position '' when it has none yet: before the first). */
  async fail(name: string, failure: ProjectionFailure): Promise<void> {
    await this.store.update(
      CHECKPOINTS,
      name,
      { $set: { failure }, $setOnInsert: { position: '' } },
      { upsert: true },
    );
  }

  async clearFailure(name: string): Promise<void> {
    await this.store.update(CHECKPOINTS, name, { $unset: { failure: 1 } });
  }

  /** Moves the checkpoint forward only; returns false when it was already at or past `position`. */
  async advance(name: string, position: bigint): Promise<boolean> {
    const padded = padPosition(position);
    const res = await this.store.update(
      CHECKPOINTS,
      name,
      { $set: { position: padded, updatedAt: new Date().toISOString() } },
      { upsert: true, guard: { position: { $lt: padded } } },
    );
    return res.matched || res.upserted;
  }

  async reset(name: string): Promise<void> {
    await this.store.delete(CHECKPOINTS, name);
  }
}

/**
 * Read-your-own-writes: waits until the named projections have passed a position, using the local runner when
 * it runs them and the shared checkpoints otherwise (the worker may run them in another process).
 */
export class PositionWaiter {
  constructor(
    private readonly checkpoints: CheckpointStore,
    private readonly runner: ProjectionRunner | null,
    private readonly pollMs = 25,
  ) {}

  /**
   * Waits until every named projection has passed `position`, at most `timeoutMs`; NotReadyError (503) then. A
   * projection that is stuck behind the position (it failed again on the retry, see isStuck) answers that 503 at once,
   * naming the projection, the event it stopped at and the error, instead of holding the request for the timeout.
   */
  async waitFor(position: bigint, projections: string[], timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const behind: string[] = [];
      const stuck: ProjectionFailure[] = [];
      for (const name of projections) {
        const here = this.runner?.runs(name) ?? false;
        const { position: cp, failure } = here
          ? {
              position: this.runner!.localCheckpoint(name)!,
              failure: this.runner!.localFailure(name) ?? null,
            }
          : await this.checkpoints.read(name);
        if (cp >= position) continue;
        behind.push(`${name} at ${cp}`);
        if (isStuck(failure)) stuck.push(failure);
      }
      if (!behind.length) return;
      if (stuck.length) {
        throw new NotReadyError(
          `read models cannot reach position ${position}: ${stuck.map(describeFailure).join('; ')}; retry later`,
          stuck.map((f) => ({
            field: 'minPosition',
            problem: 'projection failed',
            projection: f.projection,
            position: f.position,
            ...(f.event ? { event: f.event } : {}),
            error: f.error,
          })),
        );
      }
      const left = deadline - Date.now();
      if (left <= 0) {
        throw new NotReadyError(
          `read models have not caught up with position ${position} after ${timeoutMs} ms (${behind.join(', ')}); retry later`,
          behind.map((b) => ({ field: 'minPosition', problem: 'projection behind', projection: b })),
        );
      }
      await new Promise<void>((resolve) => {
        const timer = setTimeout(done, Math.min(this.pollMs, left));
        const off = this.runner?.onAdvance(done);
        function done() {
          clearTimeout(timer);
          off?.();
          resolve();
        }
      });
    }
  }
}
