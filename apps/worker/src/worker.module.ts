import { DynamicModule, Module } from '@nestjs/common';
import { PlatformModule, PlatformOptions } from '@purser/platform';
import { DirectoryProjectionsModule } from '@purser/directory';
import { UsageCoreModule } from '@purser/usage';
import { QuotasCoreModule } from '@purser/quotas';
import { AccessProjectionsModule } from '@purser/access';
import { AuditProjectionsModule } from '@purser/audit';
import { InsightProjectionsModule } from '@purser/insight';

/**
 * The worker process: runs every projection (and, as contexts add them, the Kafka consumers) apart from the
 * API, for production. Serves /health and /metrics on WORKER_PORT.
 */
@Module({})
export class WorkerModule {
  static forRoot(options: Omit<PlatformOptions, 'runProjections'>): DynamicModule {
    return {
      module: WorkerModule,
      imports: [
        // Large live batches: the worker's event loop serves only /health, and large batches cost far less per event.
        PlatformModule.forRoot({ ...options, runProjections: options.http, projectionBatchSize: 10_000 }),
        DirectoryProjectionsModule,
        UsageCoreModule,
        QuotasCoreModule,
        AccessProjectionsModule,
        AuditProjectionsModule,
        InsightProjectionsModule,
      ],
    };
  }
}
