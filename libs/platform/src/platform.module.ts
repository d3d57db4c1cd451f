import { DynamicModule, Global, Module } from '@nestjs/common';
import { CqrsModule } from '@nestjs/cqrs';
import {
  AUTHENTICATOR,
  AUTHORIZER,
  Authenticator,
  Authorizer,
  Clock,
  CommandExecutor,
  EVENT_STORE,
  EventRegistry,
  MAILER,
  MailOffMailer,
  Mailer,
  MESSAGE_BUS,
  PositionWaiter,
  READ_STORE,
  systemClock,
} from '@purser/core';
import { PurserConfig } from './config';
import { PurserLogger } from './logger';
import type { Engines } from '@purser/engines';
import { CLOCK, CONFIG, LOGGER } from './tokens';
import { ProjectionRegistry } from './projection-registry';
import { PROJECTION_BATCH_SIZE, ProjectionHost, RUN_PROJECTIONS } from './projection-host';
import { Metrics } from './metrics';
import { HealthController } from './health.controller';
import { ReadYourWrites } from './http/positions';
import { ReadYourWritesInterceptor } from './http/reads';
import { ActorGuard } from './http/context';
import { BreakGlass, BreakGlassAuthenticator, Gatekeeper, TenantAuthorizer } from './http/auth';

export interface PlatformOptions {
  config: PurserConfig;
  logger: PurserLogger;
  engines: Engines;
  /** Whether this process runs the projections. */
  runProjections: boolean;
  /**
   * Largest live projection batch: small where the projections share the API's event loop (a batch blocks it while
   * it is written), large in a worker (throughput). Default 1,000. (200-event batches measured a lower quota-check
   * p99 at 1,000/s, ~20 ms against ~35 ms, but cut single-process ingest from ~7,400 to ~4,300 events/s.)
   */
  projectionBatchSize?: number;
  /** Serve /health and /metrics (HTTP apps). */
  http: boolean;
  /** The time of commands and queries (default: the system clock; tests pass fixedClock). */
  clock?: Clock;
  /** Who calls (default: only the break-glass token; the access context installs sign-in and API keys). */
  authenticator?: Authenticator;
  /** Whether they may (default: tenancy; the access context installs its own). */
  authorizer?: Authorizer;
  /** Outgoing mail (default: "mail off", every send refused); the org server selects it from the configuration. */
  mailer?: Mailer;
}

/** The spine every bounded context stands on: engines behind ports, the event registry, commands, projections. */
@Global()
@Module({})
export class PlatformModule {
  static forRoot(options: PlatformOptions): DynamicModule {
    const registry = new EventRegistry();
    const breakGlass = new BreakGlass(options.config.adminToken);
    const gatekeeper = new Gatekeeper(
      options.authenticator ?? new BreakGlassAuthenticator(breakGlass),
      options.authorizer ?? new TenantAuthorizer(),
      // One the composition root brings (a test's) stays: a context's install does not replace it.
      { authorizerPinned: options.authorizer !== undefined },
    );
    return {
      module: PlatformModule,
      imports: [CqrsModule.forRoot()],
      controllers: options.http ? [HealthController] : [],
      providers: [
        { provide: CONFIG, useValue: options.config },
        { provide: LOGGER, useValue: options.logger },
        { provide: CLOCK, useValue: options.clock ?? systemClock },
        { provide: BreakGlass, useValue: breakGlass },
        { provide: Gatekeeper, useValue: gatekeeper },
        { provide: AUTHENTICATOR, useValue: gatekeeper },
        { provide: AUTHORIZER, useValue: gatekeeper },
        { provide: EVENT_STORE, useValue: options.engines.eventStore },
        { provide: READ_STORE, useValue: options.engines.readStore },
        { provide: MESSAGE_BUS, useValue: options.engines.bus },
        { provide: MAILER, useValue: options.mailer ?? new MailOffMailer() },
        { provide: RUN_PROJECTIONS, useValue: options.runProjections },
        { provide: PROJECTION_BATCH_SIZE, useValue: options.projectionBatchSize ?? 1_000 },
        { provide: EventRegistry, useValue: registry },
        {
          provide: CommandExecutor,
          // Folded states of up to 200,000 streams: usage batches resolve every user they name from it.
          useFactory: () => new CommandExecutor(options.engines.eventStore, registry, 200_000),
        },
        ProjectionRegistry,
        ProjectionHost,
        Metrics,
        {
          provide: PositionWaiter,
          inject: [ProjectionHost],
          useFactory: (host: ProjectionHost) =>
            // The runner is resolved lazily, at wait time, once every context has registered its projections.
            ({
              waitFor: (position: bigint, names: string[], timeoutMs: number) => {
                const runner = host.get();
                return new PositionWaiter(runner.checkpoints, host.runsProjections ? runner : null).waitFor(
                  position,
                  names,
                  timeoutMs,
                );
              },
            }) as PositionWaiter,
        },
        ReadYourWrites,
        ReadYourWritesInterceptor,
        ActorGuard,
      ],
      exports: [
        CONFIG,
        LOGGER,
        CLOCK,
        AUTHENTICATOR,
        AUTHORIZER,
        BreakGlass,
        Gatekeeper,
        EVENT_STORE,
        READ_STORE,
        MESSAGE_BUS,
        MAILER,
        EventRegistry,
        CommandExecutor,
        ProjectionRegistry,
        ProjectionHost,
        Metrics,
        PositionWaiter,
        ReadYourWrites,
        ReadYourWritesInterceptor,
        ActorGuard,
        CqrsModule,
      ],
    };
  }
}
