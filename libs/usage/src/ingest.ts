import { Inject, Injectable } from '@nestjs/common';
import {
  CommandContext,
  CommandExecutor,
  EVENT_STORE,
  EventStore,
  OnceWrite,
  RecordedEvent,
  isRefusal,
} from '@purser/core';
import { DirectoryLookup, DirectoryView } from '@purser/directory';
import { CONFIG, LOGGER, ProjectionHost, PurserConfig, PurserLogger } from '@purser/platform';
import { UsageRecorded, UsageStreams, formerUsageEventId, usageEventId } from './events';
import { usageFingerprint } from './fingerprint';
import { UsageInput, checkUsage } from './usage-input';
import { usageDecider } from './usage.decider';

export { usageRecordedData } from './usage.decider';

export type UsageOutcome =
  | { eventId: string | null; status: 'recorded' | 'duplicate'; position: string }
  /**
   * conflict: this eventId is already recorded in the org with another payload. Nothing new is recorded; the stored
   * record (at `position`) stands. Both fingerprints are given (see usageFingerprint).
   */
  | {
      eventId: string;
      status: 'conflict';
      position: string;
      reason: string;
      fingerprint: string;
      storedFingerprint: string;
    }
  /** invalid: the event is malformed (400). refused: well formed, but it names an unknown org, user or team (422). */
  | { eventId: string | null; status: 'rejected'; code: 'invalid' | 'refused'; reason: string };

export interface IngestResult {
  results: UsageOutcome[];
  recorded: number;
  duplicates: number;
  /** Events whose eventId is already recorded with another payload (status conflict). */
  conflicts: number;
  rejected: number;
  /** Highest position among recorded, duplicate and conflicting events (read-your-writes); null if none. */
  position: string | null;
}

export const MAX_BATCH = 1000;

/**
 * The one command path for usage, shared by HTTP and Kafka: validate, read the directory the batch names (one
 * DirectoryLookup batch), let usageDecider decide each event (refused, or UsageRecorded stamped with its team path
 * and the org's zone and currency), and append once per (org, eventId) with the event store's appendOnce.
 * The same eventId, sent any number of times over either way, is recorded once in its org (another org's same
 * eventId is its own record); sent again with another payload it is still recorded once and answered as a conflict
 * naming both fingerprints. Records stored under the former ids (`usage:<eventId>` in the org's stream, or in a
 * stream of its own) still answer as stored.
 */
@Injectable()
export class UsageIngest {
  private lastBackpressureLog = 0;

  constructor(
    private readonly directory: DirectoryLookup,
    private readonly executor: CommandExecutor,
    @Inject(EVENT_STORE) private readonly store: EventStore,
    private readonly host: ProjectionHost,
    @Inject(CONFIG) private readonly config: PurserConfig,
    @Inject(LOGGER) private readonly logger: PurserLogger,
  ) {}

  /**
   * Backpressure: while the projections that handle usage (expenditure, quota counting) are more than
   * PURSER_INGEST_MAX_LAG positions behind, wait before appending, at most PURSER_INGEST_MAX_WAIT_MS. Under sustained
   * load faster than they can follow, ingest slows to their pace instead of letting reports and quota counts fall
   * ever further behind. Past the bound (a stopped worker), usage is recorded anyway: nothing is refused or lost.
   * A failed projection is not waited on at all (ProjectionHost.lagFor leaves it out and logs it once): one event it
   * cannot handle must not slow every tenant's ingest; /health names it and the event it stopped at.
   */
  private async backpressure(): Promise<void> {
    const max = BigInt(this.config.ingestMaxLag);
    if (max === 0n || this.config.ingestMaxWaitMs === 0) return;
    const deadline = Date.now() + this.config.ingestMaxWaitMs;
    for (let pause = 5; ; pause = Math.min(pause * 2, 50)) {
      const lag = await this.host.lagFor('UsageRecorded');
      if (lag <= max) return;
      if (Date.now() >= deadline) {
        if (Date.now() - this.lastBackpressureLog > 10_000) {
          this.lastBackpressureLog = Date.now();
          this.logger.warn(
            { lag: lag.toString(), maxLag: this.config.ingestMaxLag },
            'usage projections are far behind; recording usage without waiting for them',
          );
        }
        return;
      }
      await new Promise((r) => setTimeout(r, pause));
    }
  }

  async record(batch: unknown[], ctx: CommandContext): Promise<IngestResult> {
    if (batch.length) await this.backpressure();
    const now = Date.parse(ctx.now);
    const results: UsageOutcome[] = new Array(batch.length);
    const writes: Array<OnceWrite & { event: { metadata: { fingerprint: string } } }> = [];
    const slots: number[] = [];
    const valid: Array<[number, UsageInput]> = [];
    const orgIds = new Set<string>();
    const userIds = new Set<string>();
    for (let i = 0; i < batch.length; i++) {
      const checked = checkUsage(batch[i], now);
      if (!checked.ok) {
        results[i] = {
          eventId: checked.eventId ?? null,
          status: 'rejected',
          code: 'invalid',
          reason: checked.reason,
        };
        continue;
      }
      valid.push([i, checked.value]);
      orgIds.add(checked.value.orgId);
      userIds.add(checked.value.userId);
    }
    // The directory as of every change committed before the batch: one streamRevisions query for all of it.
    const read = valid.length ? await this.directory.batch({ orgIds, userIds }, 'current') : null;
    // A caller bound to an org sees no other: usage for another org is refused as for an unknown one.
    const directory = read && ctx.confinedTo ? confinedView(read, ctx.confinedTo) : read;
    const state = usageDecider.initialState();

    for (const [i, u] of valid) {
      const decision = usageDecider.decide({ type: 'RecordUsage', usage: u, directory: directory! }, state);
      if (isRefusal(decision)) {
        const reason = decision.refused.message;
        results[i] = { eventId: u.eventId, status: 'rejected', code: 'refused', reason };
        continue;
      }
      const event = decision[0];
      const metadata = {
        ...this.executor.metadata(event.type, ctx, u.orgId, usageEventId(u.orgId, u.eventId)),
        fingerprint: usageFingerprint(event.data),
      };
      writes.push({
        scope: u.orgId,
        key: u.eventId,
        streamId: UsageStreams.orgUsage(u.orgId),
        event: { ...event, metadata },
        formerly: [
          { streamId: UsageStreams.orgUsage(u.orgId), eventId: formerUsageEventId(u.eventId) },
          { streamId: UsageStreams.usage(u.orgId, u.eventId), eventId: formerUsageEventId(u.eventId) },
        ],
      });
      slots.push(i);
    }

    const outcomes = writes.length
      ? await this.store.appendOnce(writes, {
          fingerprintOf: (stored: RecordedEvent) => usageFingerprint(stored.data as UsageRecorded['data']),
        })
      : [];
    let max: bigint | null = null;
    outcomes.forEach((o, k) => {
      const i = slots[k];
      const eventId = writes[k].key;
      const position = o.position.toString();
      if (max === null || o.position > max) max = o.position;
      if (o.status === 'differs') {
        results[i] = {
          eventId,
          status: 'conflict',
          position,
          reason: `eventId ${eventId} is already recorded with a different payload`,
          fingerprint: writes[k].event.metadata.fingerprint,
          storedFingerprint: o.storedFingerprint,
        };
      } else results[i] = { eventId, status: o.status, position };
    });
    let recorded = 0;
    let duplicates = 0;
    let conflicts = 0;
    for (const r of results)
      if (r.status === 'recorded') recorded++;
      else if (r.status === 'duplicate') duplicates++;
      else if (r.status === 'conflict') conflicts++;
    return {
      results,
      recorded,
      duplicates,
      conflicts,
      rejected: results.length - recorded - duplicates - conflicts,
      position: max === null ? null : (max as bigint).toString(),
    };
  }
}

/** The directory as a caller bound to one org sees it: every other org (its users and teams) does not exist. */
function confinedView(view: DirectoryView, orgId: string): DirectoryView {
  return {
    org: (id) => (id === orgId ? view.org(id) : null),
    user: (id) => {
      const user = view.user(id);
      return user && user.orgId === orgId ? user : null;
    },
    team: (org, team) => (org === orgId ? view.team(org, team) : null),
    teamPath: (org, team) => (org === orgId ? view.teamPath(org, team) : null),
    parentChain: (org, team) => (org === orgId ? view.parentChain(org, team) : null),
  };
}
