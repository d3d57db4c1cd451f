import { CommandContext, DomainEvent, EventMetadata, EventToAppend } from './events';
import { EventRegistry } from './registry';
import { uuidv7 } from './ids';

/** Stamps decided events with their metadata (ids, actor, time, schema version, org) for appending. */
export class EventStamper {
  constructor(private readonly registry: EventRegistry) {}

  toAppend<E extends DomainEvent>(events: E[], ctx: CommandContext, orgId: string | null): EventToAppend[] {
    return events.map((e) => ({ type: e.type, data: e.data, metadata: this.metadata(e.type, ctx, orgId) }));
  }

  metadata(type: string, ctx: CommandContext, orgId: string | null, eventId?: string): EventMetadata {
    return {
      eventId: eventId ?? uuidv7(),
      correlationId: ctx.correlationId,
      causationId: ctx.causationId ?? null,
      actor: ctx.actor,
      occurredAt: ctx.now,
      schemaVersion: this.registry.currentVersion(type),
      orgId,
    };
  }
}
