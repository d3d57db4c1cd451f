import { DynamicModule, Module } from '@nestjs/common';
import { PlatformModule, PlatformOptions } from '@purser/platform';
import { DirectoryModule } from '@purser/directory';
import { UsageModule } from '@purser/usage';
import { QuotasModule } from '@purser/quotas';
import { AccessModule } from '@purser/access';
import { AuditModule } from '@purser/audit';
import { InsightModule } from '@purser/insight';

/** The HTTP API: wires the platform and the bounded contexts. Logic lives in libs/. */
@Module({})
export class OrgServerModule {
  static forRoot(options: Omit<PlatformOptions, 'http'>): DynamicModule {
    return {
      module: OrgServerModule,
      imports: [
        PlatformModule.forRoot({ ...options, http: true }),
        DirectoryModule,
        UsageModule,
        QuotasModule,
        AccessModule,
        AuditModule,
        InsightModule,
      ],
    };
  }
}
