import { Controller, Get, Header, Inject, Res } from '@nestjs/common';
import { ApiExcludeEndpoint, ApiOkResponse, ApiTags } from '@nestjs/swagger';
import { EVENT_STORE, EventStore, MESSAGE_BUS, MessageBus, READ_STORE, ReadStore } from '@purser/core';
import { ProjectionHost } from './projection-host';
import { Metrics } from './metrics';
import { Public } from './http/auth';

/** Liveness/readiness with engines and projection lag; Prometheus metrics. */
@ApiTags('operations')
@Public()
@Controller()
export class HealthController {
  constructor(
    private readonly host: ProjectionHost,
    private readonly metrics: Metrics,
    @Inject(EVENT_STORE) private readonly events: EventStore,
    @Inject(READ_STORE) private readonly store: ReadStore,
    @Inject(MESSAGE_BUS) private readonly bus: MessageBus,
  ) {}

  @Get('health')
  @ApiOkResponse({
    description:
      'Engines, projections and their lag. 503 when a projection has failed (its `failure` names the event it ' +
      'stopped at: type, eventId, stream, position, and the error) or an engine is down.',
  })
  async health(@Res({ passthrough: true }) reply: { status(code: number): unknown }) {
    let status: 'ok' | 'degraded' = 'ok';
    let projections: Awaited<ReturnType<ProjectionHost['status']>> | null = null;
    let error: string | undefined;
    try {
      projections = await this.host.status();
      if (projections.projections.some((p) => p.state === 'failed' || p.failure)) status = 'degraded';
    } catch (err) {
      status = 'degraded';
      error = (err as Error).message;
    }
    if (status !== 'ok') reply.status(503);
    return {
      status,
      engines: { eventStore: this.events.name, readStore: this.store.name, messageBus: this.bus.name },
      projectionsRunHere: this.host.runsProjections,
      head: projections?.head.toString() ?? null,
      projections: projections?.projections ?? [],
      ...(error ? { error } : {}),
    };
  }

  @Get('livez')
  @ApiOkResponse({
    description: 'Liveness: the process serves HTTP. Touches no engine (use /health for readiness).',
  })
  livez() {
    return { status: 'ok' };
  }

  @Get('metrics')
  @ApiExcludeEndpoint()
  @Header('content-type', 'text/plain; version=0.0.4; charset=utf-8')
  async prometheus(): Promise<string> {
    await this.host.refreshMetrics().catch(() => undefined);
    return this.metrics.registry.metrics();
  }
}
