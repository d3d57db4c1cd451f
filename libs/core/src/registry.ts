import { RecordedEvent } from './events';

export type Upcaster = (data: any) => any;

/**
 * One registry of stored event names and their schema versions. Stored names are stable strings; an old
 * version is upcast on read, step by step, to the current one. Never edit a published event in place.
 */
export class EventRegistry {
  private readonly versions = new Map<string, number>();
  private readonly upcasters = new Map<string, Upcaster>();

  register(type: string, currentVersion = 1, upcasters: Record<number, Upcaster> = {}): this {
    if (this.versions.has(type) && this.versions.get(type) !== currentVersion) {
      throw new Error(`event type ${type} registered twice with different versions`);
    }
    this.versions.set(type, currentVersion);
    for (const [from, fn] of Object.entries(upcasters)) this.upcasters.set(`${type}@${from}`, fn);
    return this;
  }

  registerAll(types: readonly string[]): this {
    for (const t of types) this.register(t);
    return this;
  }

  has(type: string): boolean {
    return this.versions.has(type);
  }

  types(): string[] {
    return [...this.versions.keys()];
  }

  currentVersion(type: string): number {
    const v = this.versions.get(type);
    if (v === undefined) throw new Error(`unregistered event type ${type}`);
    return v;
  }

  /** Brings a stored event up to the current schema version of its type. Unknown types pass unchanged. */
  upcast<T extends RecordedEvent>(event: T): T {
    const target = this.versions.get(event.type);
    // Types still at version 1 never need upcasting: do not even read the metadata.
    if (target === undefined || target <= 1) return event;
    let version = event.metadata.schemaVersion ?? 1;
    if (version >= target) return event;
    let data = event.data;
    while (version < target) {
      const fn = this.upcasters.get(`${event.type}@${version}`);
      if (!fn) throw new Error(`no upcaster for ${event.type} v${version}`);
      data = fn(data);
      version++;
    }
    return { ...event, data, metadata: { ...event.metadata, schemaVersion: target } };
  }
}
