import { Injectable } from '@nestjs/common';
import { CommandExecutor, StaleStateError, formatNanos, toNanos } from '@purser/core';
import { EntityType, QuotaDefinition, QuotaStreams } from './events';
import { QuotaEntry, liveQuota, quotaBookDecider } from './book.decider';
import { ledgerDecider, reservedAt } from './ledger.decider';
import { QuotaDirectory } from './directory-view';
import { periodOf } from './weighing';

/** A quota's definition (its org is the route's) with its figures in the period in force. */
export interface QuotaView extends Omit<QuotaDefinition, 'orgId'> {
  currentPeriod: { key: string; start: string | null; end: string | null };
  used: string;
  reserved: string;
  remaining: string;
  revision: string;
}

/** A quota and its figures in a period, as the API shows them. */
export function viewOf(
  q: QuotaEntry,
  period: { key: string; start: string | null; end: string | null },
  { used, reserved }: { used: bigint; reserved: bigint },
): QuotaView {
  const left = toNanos(q.limit) - used - reserved;
  return {
    quotaId: q.quotaId,
    entityType: q.entityType,
    entityId: q.entityId,
    itemType: q.itemType,
    itemId: q.itemId,
    metric: q.metric,
    currency: q.currency,
    limit: q.limit,
    period: q.period,
    enforcement: q.enforcement,
    thresholds: q.thresholds,
    currentPeriod: period,
    used: formatNanos(used),
    reserved: formatNanos(reserved),
    remaining: formatNanos(left > 0n ? left : 0n),
    revision: String(q.version),
  };
}

/** The quotas with their figures for the period in force now: an org's, one, and those that apply to a user. */
@Injectable()
export class QuotaViews {
  constructor(
    private readonly executor: CommandExecutor,
    private readonly directory: QuotaDirectory,
  ) {}

  async book(orgId: string) {
    return (await this.executor.current(QuotaStreams.book(orgId), quotaBookDecider)).state;
  }

  /** A quota with its figures for the period in force now. */
  async view(q: QuotaEntry, timeZone: string, now = new Date().toISOString()): Promise<QuotaView> {
    const period = periodOf(q, now, timeZone);
    return viewOf(q, period, await this.figures(q.quotaId, period.key, now));
  }

  async list(orgId: string, filter: { entityType?: EntityType; entityId?: string }) {
    const org = await this.directory.liveOrg(orgId);
    const book = await this.book(orgId);
    const items: QuotaView[] = [];
    for (const q of book.quotas.values()) {
      if (q.removed) continue;
      if (filter.entityType && q.entityType !== filter.entityType) continue;
      if (filter.entityId && q.entityId !== filter.entityId) continue;
      items.push(await this.view(q, org.timeZone));
    }
    return { items };
  }

  async get(orgId: string, quotaId: string) {
    const org = await this.directory.liveOrg(orgId);
    return this.view(liveQuota(await this.book(orgId), quotaId), org.timeZone);
  }

  /** Every quota that applies to a user: theirs, every team they are in and its ancestors, and the org's. */
  async forUser(orgId: string, userId: string) {
    const { org, teams } = await this.directory.userTeams(orgId, userId);
    const book = await this.book(orgId);
    const items: Array<QuotaView & { via: string }> = [];
    for (const q of book.quotas.values()) {
      if (q.removed) continue;
      const scope =
        q.entityType === 'Org'
          ? q.entityId === orgId
          : q.entityType === 'User'
            ? q.entityId === userId
            : teams.ids.has(q.entityId);
      if (!scope) continue;
      items.push({
        ...(await this.view(q, org.timeZone)),
        via:
          q.entityType === 'Team'
            ? `team ${teams.name(q.entityId) ?? q.entityId}`
            : q.entityType.toLowerCase(),
      });
    }
    return { userId, items };
  }

  /** Used and reserved on a ledger now (a state superseded by a concurrent fold is simply read again). */
  async figures(quotaId: string, period: string, now: string): Promise<{ used: bigint; reserved: bigint }> {
    for (;;) {
      const { state } = await this.executor.current(QuotaStreams.ledger(quotaId, period), ledgerDecider);
      try {
        return { used: state.used, reserved: reservedAt(state, now) };
      } catch (err) {
        if (!(err instanceof StaleStateError)) throw err;
      }
    }
  }
}
