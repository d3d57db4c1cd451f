import { Module } from '@nestjs/common';
import { EventRegistry } from '@purser/core';
import { ProjectionRegistry } from '@purser/platform';
import { DIRECTORY_EVENT_TYPES } from './events';
import { DirectoryProjection } from './projection';
import { DIRECTORY_HANDLERS } from './handlers';
import { Claims } from './claims';
import { DirectoryQueries } from './queries';
import { CachedDirectoryLookup, DirectoryLookup } from './lookup';
import { OrgsController, TeamsController, UsersController } from './directory.controller';

/** Registers the directory's event names and its projection (used alone by the worker). */
@Module({})
export class DirectoryProjectionsModule {
  constructor(events: EventRegistry, projections: ProjectionRegistry) {
    events.registerAll(DIRECTORY_EVENT_TYPES);
    projections.register(new DirectoryProjection());
  }
}

/** What other contexts may ask of the directory (DirectoryLookup); imported by the contexts that ask. */
@Module({
  providers: [{ provide: DirectoryLookup, useClass: CachedDirectoryLookup }],
  exports: [DirectoryLookup],
})
export class DirectoryLookupModule {}

/** The org directory: orgs, nested teams and users. */
@Module({
  imports: [DirectoryProjectionsModule, DirectoryLookupModule],
  controllers: [OrgsController, TeamsController, UsersController],
  providers: [...DIRECTORY_HANDLERS, Claims, DirectoryQueries],
  exports: [DirectoryQueries, DirectoryLookupModule],
})
export class DirectoryModule {}
