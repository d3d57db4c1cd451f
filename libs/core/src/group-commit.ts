import { CommandContext, DomainEvent } from './events';
import { EventStore, StreamWriteOutcome } from './event-store.port';
import { StaleStateError, WrongExpectedVersionError } from './errors';
import { Decider } from './decider';
import { FoldedState, StateCache } from './state-cache';
import { EventStamper } from './event-stamp';

/** A command waiting for its batch. The caller's own object (it may carry more), so submitting allocates nothing. */
export interface PendingCommand<Out> {
  ctx: CommandContext;
  orgId: string | null;
  /** How many times it was decided again after a stream it wrote to moved. */
  attempts: number;
  resolve(result: Out): void;
  reject(err: unknown): void;
}

/** One stream during a batch: the state read, the state with the batch's events folded in, and those events. */
export class StreamWork<S, E extends DomainEvent> {
  state: S;
  events: Array<{ event: E; ctx: CommandContext; orgId: string | null }> = [];

  constructor(
    readonly streamId: string,
    readonly base: FoldedState<S>,
    private readonly decider: Pick<Decider<unknown, S, E>, 'evolve'>,
  ) {
    this.state = base.state;
  }

  /** Folds a command's events into the working state; they are appended with the batch. */
  apply(events: E[], ctx: CommandContext, orgId: string | null): void {
    for (const event of events) {
      this.state = this.decider.evolve(this.state, event);
      this.events.push({ event, ctx, orgId });
    }
  }
}

/** What deciding one command did: the streams it wrote to (they land or it is decided again) and its answer. */
export interface Decided<R> {
  streams: Array<StreamWork<any, any>>;
  result: R;
  /**
   * Whether what landed of it must be undone (compensate) when another of its streams did not land: a command whose
   * events are only a record (a refusal, say) holds nothing.
   */
  holds: boolean;
}

/** The commands of one kind that a group commit decides together, all on streams of one decider. */
export interface GroupCommitHandler<P extends PendingCommand<Out>, Plan, S, E extends DomainEvent, R, Out> {
  readonly decider: Decider<any, S, E>;
  /** Once per batch, before any command is planned (say, catch the cached states up from $all). */
  begin?(): Promise<void>;
  /** Validates one command and says which streams it decides on; throwing rejects this command alone. */
  plan(command: P): Promise<Plan>;
  streamsOf(plan: Plan): ReadonlyArray<{ streamId: string }>;
  /** Decides one command on the batch's working states (synchronously), folding its events in with StreamWork.apply. */
  decide(plan: Plan, work: ReadonlyMap<string, StreamWork<S, E>>): Decided<R>;
  /** The command's answer once everything it wrote has landed (`position`: its last event's, -1 when none). */
  finish(result: R, position: bigint): Out;
  /**
   * Undoes what landed of a command that is decided again (another of its streams moved), with ordinary commands:
   * `landed` names the streams it wrote to that did land.
   */
  compensate?(plan: Plan, landed: string[]): Promise<void>;
  /** Takes back out of a working state what was folded into it but not appended; null: drop the cached state. */
  unfold?(state: S, notAppended: E[]): S;
}

export interface GroupCommitOptions {
  /** Most commands decided and appended together (one appendMany). */
  maxBatch: number;
  /** How many times a command is decided again after a version conflict before it fails with the conflict. */
  maxRetries: number;
}

/**
 * Group commit over several streams: the commands that arrive while a batch is under way (or in one event-loop turn)
 * wait for it, then are decided together in one synchronous pass on the streams' cached states (read once per batch),
 * each seeing what the commands before it decided. The whole batch is appended with one appendMany, one write per
 * stream, each conditioned on the revision its decisions rest on: the event store, not this process, is the
 * serialization point. A stream that moved meanwhile fails its write: the commands that wrote to it undo what did
 * land elsewhere (compensate) and are decided again on fresh states, a bounded number of times.
 */
export class GroupCommit<P extends PendingCommand<Out>, Plan, S, E extends DomainEvent, R, Out> {
  private readonly pending: P[] = [];
  private batching = false;

  constructor(
    private readonly handler: GroupCommitHandler<P, Plan, S, E, R, Out>,
    private readonly states: StateCache,
    private readonly stamper: EventStamper,
    private readonly store: EventStore,
    private readonly options: GroupCommitOptions,
  ) {}

  /** Queues a command for the next batch; the command's resolve or reject answers it. */
  submit(command: P): void {
    this.pending.push(command);
    this.schedule();
  }

  private schedule(): void {
    if (this.batching) return;
    this.batching = true;
    setImmediate(() => void this.drain());
  }

  private async drain(): Promise<void> {
    try {
      while (this.pending.length) {
        const batch = this.pending.splice(0, this.options.maxBatch);
        await this.run(batch).catch((err: unknown) => {
          for (const c of batch) c.reject(err);
        });
      }
    } finally {
      this.batching = false;
      if (this.pending.length) this.schedule();
    }
  }

  /** One group commit. */
  private async run(batch: P[]): Promise<void> {
    const h = this.handler;
    if (h.begin) await h.begin();
    // Parallel arrays (commands[i] planned as plans[i], decided as decided[i]): nothing allocated per command here.
    const commands: P[] = [];
    const plans: Plan[] = [];
    for (const command of batch) {
      try {
        const plan = await h.plan(command);
        commands.push(command);
        plans.push(plan);
      } catch (err) {
        command.reject(err);
      }
    }
    // Every stream's state as of the catch-up (read only when not cached), then one synchronous pass of decisions.
    const work = new Map<string, StreamWork<S, E>>();
    for (const plan of plans) {
      for (const { streamId } of h.streamsOf(plan)) {
        if (work.has(streamId)) continue;
        const base = await this.states.recent(streamId, h.decider);
        work.set(streamId, new StreamWork(streamId, base, h.decider));
      }
    }
    const decided: Array<Decided<R>> = [];
    try {
      for (const plan of plans) decided.push(h.decide(plan, work));
    } catch (err) {
      // A cached state was superseded by a concurrent fold (see ReservationBook), or a decider failed: nothing was
      // appended; roll back what this pass folded and decide every command again (or fail them).
      for (const w of work.values()) this.rollBack(w);
      for (const c of commands) this.retryOrFail(c, err);
      return;
    }
    const writes = [...work.values()].filter((w) => w.events.length);
    let outcomes: StreamWriteOutcome[];
    try {
      outcomes = await this.store.appendMany(
        writes.map((w) => ({
          streamId: w.streamId,
          events: w.events.map(({ event, ctx, orgId }) => ({
            type: event.type,
            data: event.data,
            metadata: this.stamper.metadata(event.type, ctx, orgId),
          })),
          expected: w.base.revision < 0n ? ('no_stream' as const) : w.base.revision,
        })),
      );
    } catch (err) {
      for (const w of writes) this.rollBack(w);
      for (let i = 0; i < decided.length; i++) commands[i].reject(err);
      return;
    }
    const landed = new Map<StreamWork<S, E>, bigint>();
    const failed = new Map<StreamWork<S, E>, Error>();
    writes.forEach((w, i) => {
      const o = outcomes[i];
      if (o.ok) {
        landed.set(w, o.result.position);
        this.states.remember(
          w.streamId,
          h.decider,
          { state: w.state, revision: o.result.nextRevision, position: o.result.position },
          true,
        );
      } else {
        failed.set(w, o.error);
        this.rollBack(w);
      }
    });
    for (let i = 0; i < decided.length; i++) {
      const d = decided[i];
      const command = commands[i];
      const failure = d.streams.map((w) => failed.get(w)).find((e) => e !== undefined);
      if (!failure) {
        const position = d.streams.reduce((m, w) => (landed.get(w)! > m ? landed.get(w)! : m), -1n);
        command.resolve(h.finish(d.result, position));
        continue;
      }
      // Part of this command did not land: undo what did, then decide it again.
      if (d.holds && h.compensate) {
        try {
          await h.compensate(
            plans[i],
            d.streams.filter((w) => landed.has(w)).map((w) => w.streamId),
          );
        } catch (err) {
          command.reject(err);
          continue;
        }
      }
      this.retryOrFail(command, failure);
    }
  }

  /**
   * Undoes what a batch folded into a stream's state but did not append (see GroupCommitHandler.unfold), and caches
   * the state at the revision it was read at, to be read again up to the stream's tail before it is trusted. Without
   * an unfold, or if the state has meanwhile moved on, the cached state is dropped and read again from its start.
   */
  private rollBack(w: StreamWork<S, E>): void {
    if (!w.events.length) return;
    try {
      if (!this.handler.unfold) throw new Error('no unfold');
      const state = this.handler.unfold(
        w.state,
        w.events.map((e) => e.event),
      );
      this.states.remember(
        w.streamId,
        this.handler.decider,
        { state, revision: w.base.revision, position: w.base.position },
        false,
      );
    } catch {
      this.states.forget(w.streamId);
    }
    w.events = [];
  }

  private retryOrFail(c: P, err: unknown): void {
    const retriable = err instanceof WrongExpectedVersionError || err instanceof StaleStateError;
    if (!retriable || ++c.attempts > this.options.maxRetries) return c.reject(err);
    this.pending.push(c);
  }
}
