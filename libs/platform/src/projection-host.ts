import { Inject, Injectable, OnApplicationBootstrap, OnApplicationShutdown } from '@nestjs/common';
import {
  EVENT_STORE,
  EventRegistry,
  EventStore,
  ProjectionRunner,
  READ_STORE,
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
    if (this.runsProjections) await runner.start(this.config.workerProjections ?? undefined);
    else await runner.prepare();
    this.metricsTimer = setInterval(() => void this.refreshMetrics().catch(() => undefined), 5000);
    this.metricsTimer.unref();
  }

  async onApplicationShutdown(): Promise<void> {
    if (this.metricsTimer) clearInterval(this.metricsTimer);
    await this.runner?.stop();
  }

  /** Per projection: checkpoint, lag in positions and state; read from the shared checkpoints when run elsewhere. */
  async status(): Promise<{
    head: bigint;
    projections: Array<{ name: string; checkpoint: string; lag: string; state: string; error?: string }>;
  }> {
    const runner = this.get();
    const head = await this.events.headPosition();
    const out = [];
    for (const s of runner.status()) {
      const here = this.runsProjection(s.name);
      const checkpoint = await this.checkpointOf(s.name);
      const lag = head > checkpoint ? head - checkpoint : 0n;
      out.push({
        name: s.name,
        checkpoint: checkpoint.toString(),
        lag: lag.toString(),
        state: here ? s.state : 'remote',
        ...(s.error ? { error: s.error } : {}),
      });
    }
    return { head, projections: out };
  }

  /**
   * How far the slowest projection that handles this event type is behind the event store's head, in positions
   * (0 when none does). From the local runner for the projections it runs, else from the shared checkpoints.
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
      const cp = await this.checkpointOf(name);
      if (cp < slowest) slowest = cp;
    }
    return head - slowest;
  }

  /** A projection's checkpoint: the runner's when this process runs it, else the one saved in the read store. */
  private async checkpointOf(name: string): Promise<bigint> {
    const runner = this.get();
    return (
      (this.runsProjection(name) ? runner.localCheckpoint(name) : undefined) ??
      (await runner.checkpoints.get(name))
    );
  }

  async refreshMetrics(): Promise<void> {
    const { head, projections } = await this.status();
    this.metrics.eventStoreHead.set(Number(head));
    for (const p of projections) {
      this.metrics.projectionCheckpoint.set({ projection: p.name }, Number(p.checkpoint));
      this.metrics.projectionLag.set({ projection: p.name }, Number(p.lag));
    }
  }
}
