import { Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

/** Prometheus metrics, served at /metrics. */
export class Metrics {
  readonly registry = new Registry();
  private perProjection(name: string, help: string) {
    return new Gauge({ name, help, labelNames: ['projection'] as const, registers: [this.registry] });
  }
  readonly httpDuration = new Histogram({
    name: 'purser_http_request_duration_seconds',
    help: 'HTTP request duration by route and status',
    labelNames: ['method', 'route', 'status'] as const,
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
    registers: [this.registry],
  });
  readonly projectionCheckpoint = this.perProjection(
    'purser_projection_checkpoint_position',
    'Last event-store position handled by each projection',
  );
  readonly projectionLag = this.perProjection(
    'purser_projection_lag_positions',
    'Event-store head position minus the projection checkpoint',
  );
  readonly projectionFailed = this.perProjection(
    'purser_projection_failed',
    '1 while a projection is failed (stopped at an event it cannot handle, retried with backoff), else 0',
  );
  readonly eventStoreHead = new Gauge({
    name: 'purser_event_store_head_position',
    help: 'Position of the last event in the event store',
    registers: [this.registry],
  });

  constructor() {
    collectDefaultMetrics({ register: this.registry, prefix: 'purser_' });
  }
}
