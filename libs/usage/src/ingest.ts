import { Inject, Injectable } from '@nestjs/common';
import {
  CommandContext,
  CommandExecutor,
  ConflictError,
  EVENT_STORE,
  EventStore,
  StreamWrite,
  WrongExpectedVersionError,
  canonicalDecimal,
} from '@purser/core';
import {
  OrgState,
  Streams,
  TeamTreeState,
  UserState,
  ancestors,
  orgDecider,
  teamTreeDecider,
  userDecider,
} from '@purser/directory';
import { UsageRecorded, UsageStreams, usageEventId } from './events';
import { checkUsage } from './usage-input';

export type UsageOutcome =
  | { eventId: string | null; status: 'recorded' | 'duplicate'; position: string }
  /** invalid: the event is malformed (400). refused: well formed, but it names an unknown org, user or team (422). */
  | { eventId: string | null; status: 'rejected'; code: 'invalid' | 'refused'; reason: string };

export interface IngestResult {
  results: UsageOutcome[];
  recorded: number;
  duplicates: number;
  rejected: number;
  /** Highest position among recorded and duplicate events (read-your-writes); null if none. */
  position: string | null;
}

export const MAX_BATCH = 1000;

/**
 * The one command path for usage, shared by HTTP and Kafka: validate, check the org, user and team, stamp the
 * team path and the org's zone and currency, and append each record to its own stream with "no stream" expected,
 * so the same eventId, sent any number of times over either way, is recorded once.
 */
@Injectable()
export class UsageIngest {
  constructor(
    private readonly executor: CommandExecutor,
    @Inject(EVENT_STORE) private readonly store: EventStore,
  ) {}

  async record(batch: unknown[], ctx: CommandContext): Promise<IngestResult> {
    const now = Date.parse(ctx.now);
    const results: UsageOutcome[] = new Array(batch.length);
    const writes: StreamWrite[] = [];
    const slots: number[] = [];
    const orgs = new Map<string, Promise<OrgState>>();
    const users = new Map<string, Promise<UserState>>();
    const trees = new Map<string, Promise<TeamTreeState>>();
    const memo = <S>(m: Map<string, Promise<S>>, key: string, load: () => Promise<S>) => {
      let p = m.get(key);
      if (!p) m.set(key, (p = load()));
      return p;
    };

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
      const u = checked.value;
      const reject = (reason: string) =>
        (results[i] = { eventId: u.eventId, status: 'rejected', code: 'refused', reason });
      const org = await memo(
        orgs,
        u.orgId,
        async () => (await this.executor.current(Streams.org(u.orgId), orgDecider)).state,
      );
      if (!org.exists || org.deleted) {
        reject(`unknown org ${u.orgId}`);
        continue;
      }
      const user = await memo(
        users,
        u.userId,
        async () => (await this.executor.current(Streams.user(u.userId), userDecider)).state,
      );
      if (!user.exists || user.deleted || user.orgId !== u.orgId) {
        reject(`unknown user ${u.userId} in org ${u.orgId}`);
        continue;
      }
      const teamId = u.teamId ?? user.primaryTeamId;
      let teamPath: string[] = [];
      if (teamId) {
        if (!user.teamIds.includes(teamId)) {
          reject(`user ${u.userId} is not a member of team ${teamId}`);
          continue;
        }
        const tree = await memo(
          trees,
          u.orgId,
          async () => (await this.executor.current(Streams.teams(u.orgId), teamTreeDecider)).state,
        );
        const team = tree.teams.get(teamId);
        if (!team || team.deleted) {
          reject(`unknown team ${teamId} in org ${u.orgId}`);
          continue;
        }
        teamPath = [teamId, ...ancestors(tree, teamId).map((t) => t.teamId)];
      }
      const event: UsageRecorded = {
        type: 'UsageRecorded',
        data: {
          usageId: u.eventId,
          orgId: u.orgId,
          userId: u.userId,
          teamId: teamId ?? null,
          teamPath,
          itemType: u.itemType,
          itemId: u.itemId,
          amount: canonicalDecimal(u.amount),
          currency: u.currency,
          inputTokens: u.inputTokens ?? null,
          outputTokens: u.outputTokens ?? null,
          model: u.model ?? null,
          occurredAt: u.occurredAt,
          reservationId: u.reservationId ?? null,
          attributes: u.attributes ?? {},
          timeZone: org.timeZone,
          baseCurrency: org.baseCurrency,
        },
      };
      writes.push({
        streamId: UsageStreams.usage(u.orgId, u.eventId),
        events: [
          { ...event, metadata: this.executor.metadata(event.type, ctx, u.orgId, usageEventId(u.eventId)) },
        ],
        expected: 'no_stream',
      });
      slots.push(i);
    }

    const outcomes = writes.length ? await this.store.appendMany(writes) : [];
    let max: bigint | null = null;
    outcomes.forEach((o, k) => {
      const i = slots[k];
      const eventId = (batch[i] as { eventId: string }).eventId;
      if (o.ok) {
        results[i] = {
          eventId,
          status: o.result.duplicate ? 'duplicate' : 'recorded',
          position: o.result.position.toString(),
        };
        if (max === null || o.result.position > max) max = o.result.position;
      } else if (o.error instanceof WrongExpectedVersionError) {
        results[i] = { eventId, status: 'duplicate', position: '0' };
      } else if (o.error instanceof ConflictError) {
        results[i] = {
          eventId,
          status: 'rejected',
          code: 'refused',
          reason: `eventId ${eventId} is already used by another record`,
        };
      } else {
        throw o.error;
      }
    });
    let recorded = 0;
    let duplicates = 0;
    for (const r of results)
      if (r.status === 'recorded') recorded++;
      else if (r.status === 'duplicate') duplicates++;
    return {
      results,
      recorded,
      duplicates,
      rejected: results.length - recorded - duplicates,
      position: max === null ? null : (max as bigint).toString(),
    };
  }
}
