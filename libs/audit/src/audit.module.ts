import { Module } from '@nestjs/common';
import { DirectoryLookupModule } from '@purser/directory';
import { ProjectionRegistry } from '@purser/platform';
import { AuditProjection } from './projection';
import { AuditController } from './audit.controller';

/** Registers the audit projection (used alone by the worker). The events it reads are registered by their contexts. */
@Module({})
export class AuditProjectionsModule {
  constructor(projections: ProjectionRegistry) {
    projections.register(new AuditProjection());
  }
}

/** The audit trail: its projection and GET /v1/orgs/:orgId/audit (and verify). */
@Module({
  imports: [AuditProjectionsModule, DirectoryLookupModule],
  controllers: [AuditController],
})
export class AuditModule {}
