import { Module } from '@nestjs/common';
import { EventRegistry } from '@purser/core';
import { ProjectionRegistry } from '@purser/platform';
import { DIRECTORY_EVENT_TYPES } from './events';
import { DirectoryProjection } from './projection';
import { DIRECTORY_HANDLERS } from './handlers';
import { Claims } from './claims';
import { DirectoryQueries } from './queries';
import { OrgsController, TeamsController, UsersController } from './directory.controller';

/** Registers the directory's event names and its projection (used alone by the worker). */
@Module({})
export class DirectoryProjectionsModule {
  constructor(events: EventRegistry, projections: ProjectionRegistry) {
    events.registerAll(DIRECTORY_EVENT_TYPES);
    projections.register(new DirectoryProjection());
  }
}

/** The org directory: orgs, nested teams and users. */
@Module({
  imports: [DirectoryProjectionsModule],
  controllers: [OrgsController, TeamsController, UsersController],
  providers: [...DIRECTORY_HANDLERS, Claims, DirectoryQueries],
  exports: [DirectoryQueries],
})
export class DirectoryModule {}
