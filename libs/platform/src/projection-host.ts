import { Inject, Injectable, OnApplicationBootstrap, OnApplicationShutdown } from '@nestjs/common';
import {
  EVENT_STORE,
  EventRegistry,
  EventStore,
  ProjectionFailure,
  ProjectionRunner,
  READ_STORE,
  describeFailure,
  ReadStore,
} from '@purser/core';
import { CONFIG, LOGGER } from './tokens';
import { PurserConfig, WorkerTask } from './config';
import { PurserLogger } from './logger';
import { ProjectionRegistry } from './projection-registry';
import { Metrics } from './metrics';

export const RUN_PROJECTIONS = Symbol('RunProjections');
export const PROJECTION_BATCH_SIZE = Symbol('ProjectionBatchSize');

/**
 * Owns the projection runner. It always prepares the read models' collections; it runs the projections when
 * this process hosts them (org-server in embedded mode, or the worker).
 */
@Injectable()
export class ProjectionHost implements OnApplicationBootstrap, OnApplicationShutdown {
  private runner: ProjectionRunner | null = null;
  private metricsTimer: NodeJS.Timeout | null = null;
  /** The failures lagFor has already logged (projection, position and error): one line per failure, not per call. */
  private readonly skipLogged = new Set<string>();

  constructor(
    @Inject(EVENT_STORE) private readonly events: EventStore,
    @Inject(READ_STORE) private readonly store: ReadStore,
    private readonly registry: EventRegistry,
    private readonly projections: ProjectionRegistry,
    private readonly metrics: Metrics,
    @Inject(LOGGER) private readonly logger: PurserLogger,
    @Inject(RUN_PROJECTIONS) private readonly runHere: boolean,
    @Inject(CONFIG) private readonly config: PurserConfig,
    @Inject(PROJECTION_BATCH_SIZE) private readonly batchSize: number,
  ) {}

  /** The runner; created lazily so every context module has registered its projections first. */
  get(): ProjectionRunner {
    if (!this.runner) {
      this.runner = new ProjectionRunner(
        this.events,
        this.store,
        this.registry,
        this.projections.all(),
        this.logger,
        { batchSize: this.batchSize },
      );
    }
    return this.runner;
  }

  /** Whether this process runs the projections (PURSER_PROJECTIONS, and PURSER_WORKER_TASKS lists them). */
  get runsProjections(): boolean {
    return this.runs('projections');
  }

  /** Whether this process runs a background task: it runs background work at all and PURSER_WORKER_TASKS lists it. */
  runs(task: WorkerTask): boolean {
    return this.runHere && this.config.workerTasks.includes(task);
  }

  /** Whether this process runs that projection (PURSER_WORKER_PROJECTIONS spreads them over processes). */
  runsProjection(name: string): boolean {
    return (
      this.runsProjections && (!this.config.workerProjections || this.config.workerProjections.includes(name))
    );
  }

  async onApplicationBootstrap(): Promise<void> {
    const runner = this.get();
    if (this.runsProjections) {
      await runner.start(this.config.workerProjections ?? undefined);
      this.logger.info(
        { projections: Object.fromEntries(runner.status().map((s) => [s.name, s.checkpoint])) },
        'projections started (name: checkpoint)',
      );
    } else await runner.prepare();
    this.metricsTimer = setInterval(() => void this.refreshMetrics().catch(() => undefined), 5000);
    this.metricsTimer.unref();
  }

  async onApplicationShutdown(): Promise<void> {
    if (this.metricsTimer) clearInterval(this.metricsTimer);
    await this.runner?.stop();
  }

  /** Per projection: checkpoint, lag in positions and state; read from the shared checkpoints when run elsewhere. */
  /**
   * Per projection: checkpoint, lag in positions and state; read from the shared checkpoints when run elsewhere
   * (state 'remote'). A failed projection carries its failure: the event it stopped at, its position, the error.
   */
  async status(): Promise<{
    head: bigint;
    projections: Array<{
      name: string;
      checkpoint: string;
      lag: string;
      state: string;
      error?: string;
      failure?: ProjectionFailure;
    }>;
  }> {
    const runner = this.get();
    const head = await this.events.headPosition();
    const out = [];
    for (const s of runner.status()) {
      const here = this.runsProjection(s.name);
      const { position: checkpoint, failure } = await this.checkpointOf(s.name);
      const lag = head > checkpoint ? head - checkpoint : 0n;
      out.push({
        name: s.name,
        checkpoint: checkpoint.toString(),
        lag: lag.toString(),
        state: here ? s.state : 'remote',
        ...(failure ? { error: failure.error, failure } : s.error ? { error: s.error } : {}),
      });
    }
    return { head, projections: out };
  }

  /**
   * How far the slowest healthy projection that handles this event type is behind the event store's head, in
   * positions (0 when none does). From the local runner for the projections it runs, else from the shared
   * checkpoints. A failed projection is left out (its lag only grows until someone fixes it; waiting on it would hold
   * every caller for nothing), and logged once per failure.
   */
  async lagFor(eventType: string): Promise<bigint> {
    const names = this.projections
      .all()
      .filter((p) => p.filter?.eventTypes?.includes(eventType))
      .map((p) => p.name);
    if (names.length === 0) return 0n;
    const head = await this.events.headPosition();
    let slowest = head;
    for (const name of names) {
      const { position, failure } = await this.checkpointOf(name);
      if (failure) {
        this.logSkipped(eventType, failure);
        continue;
      }
      if (position < slowest) slowest = position;
    }
    return head - slowest;
  }

  private logSkipped(eventType: string, failure: ProjectionFailure): void {
    const key = `${failure.projection}|${failure.position}|${failure.error}`;
    if (this.skipLogged.has(key)) return;
    if (this.skipLogged.size >= 100) this.skipLogged.clear();
    this.skipLogged.add(key);
    this.logger.warn(
      {
        projection: failure.projection,
        position: failure.position,
        event: failure.event,
        err: failure.error,
        eventType,
      },
      `${describeFailure(failure)}; ${eventType} back-pressure does not wait on it while it is failed`,
    );
  }

  /**
   * A projection's checkpoint and failure: the runner's when this process runs it, else the ones saved in the read
   * store (the process running it records its failure next to its checkpoint).
   */
  private async checkpointOf(name: string): Promise<{ position: bigint; failure: ProjectionFailure | null }> {
    const runner = this.get();
    if (this.runsProjection(name) && runner.runs(name)) {
      return { position: runner.localCheckpoint(name)!, failure: runner.localFailure(name) ?? null };
    }
    return runner.checkpoints.read(name);
  }

  async refreshMetrics(): Promise<void> {
    const { head, projections } = await this.status();
    this.metrics.eventStoreHead.set(Number(head));
    for (const p of projections) {
      this.metrics.projectionCheckpoint.set({ projection: p.name }, Number(p.checkpoint));
      this.metrics.projectionLag.set({ projection: p.name }, Number(p.lag));
      this.metrics.projectionFailed.set({ projection: p.name }, p.failure || p.state === 'failed' ? 1 : 0);
    }
  }
}
