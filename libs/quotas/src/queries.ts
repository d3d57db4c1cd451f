import { Inject, Injectable } from '@nestjs/common';
import { Filter, NotFoundError, READ_STORE, ReadStore, instantOrThrow } from '@purser/core';
import { ALERTS, REFUSALS, RESERVATIONS } from './read-models';
import { QuotaDirectory } from './directory-view';

export { QUOTA_DECISIONS_PROJECTION, QUOTA_USAGE_PROJECTION } from './read-models';

export interface DecisionsFilter {
  from?: string;
  to?: string;
  limit?: number;
  cursor?: string;
}

/** Reads of the quota decisions read model: reservations, alerts and refusals. */
@Injectable()
export class QuotaQueries {
  constructor(
    @Inject(READ_STORE) private readonly store: ReadStore,
    private readonly directory: QuotaDirectory,
  ) {}

  /** A reservation on each quota it holds: live, settled, released or expired. */
  async reservation(orgId: string, reservationId: string) {
    const page = await this.store.find(RESERVATIONS, { orgId, reservationId }, { limit: 100 });
    if (!page.items.length)
      throw new NotFoundError(`reservation ${reservationId} not found in org ${orgId}`, [
        { field: 'reservationId', problem: 'unknown' },
      ]);
    return {
      reservationId,
      quotas: page.items.map((r) => ({
        quotaId: r.quotaId,
        period: r.period,
        amount: r.amount,
        state: r.state,
        expiresAt: r.expiresAt,
        closedAt: r.closedAt ?? null,
      })),
    };
  }

  alerts(orgId: string, q: DecisionsFilter & { quotaId?: string }) {
    return this.decisions(ALERTS, orgId, q, q.quotaId ? { quotaId: q.quotaId } : {});
  }

  refusals(orgId: string, q: DecisionsFilter & { userId?: string }) {
    return this.decisions(REFUSALS, orgId, q, q.userId ? { 'requester.userId': q.userId } : {});
  }

  /** Alerts and refusals: facts of one org in time order, with cursor paging. */
  private async decisions(collection: string, orgId: string, q: DecisionsFilter, extra: Filter) {
    // Strict instants: an impossible date (2026-02-30) is a 400, not a silent roll-over into March.
    const from = q.from === undefined ? undefined : instantOrThrow(q.from, 'from');
    const to = q.to === undefined ? undefined : instantOrThrow(q.to, 'to');
    await this.directory.liveOrg(orgId);
    const filter: Filter = { orgId, ...extra };
    if (from || to) filter.at = { ...(from ? { $gte: from } : {}), ...(to ? { $lt: to } : {}) };
    const page = await this.store.find(collection, filter, {
      sort: { at: 1 },
      limit: q.limit ?? 100,
      cursor: q.cursor,
    });
    return {
      items: page.items.map(({ _id, position, ...r }) => ({
        eventId: _id,
        ...r,
        position: String(Number(position)),
      })),
      nextCursor: page.nextCursor,
    };
  }
}
