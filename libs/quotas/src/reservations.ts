import { Inject, Injectable } from '@nestjs/common';
import { CommandHandler, ICommandHandler } from '@nestjs/cqrs';
import {
  CommandContext,
  CommandExecutor,
  EVENT_STORE,
  EventStore,
  NotFoundError,
  READ_STORE,
  ReadStore,
} from '@purser/core';
import { QuotaStreams } from './events';
import { QuotaEntry, quotaBookDecider } from './book.decider';
import { ledgerDecider } from './ledger.decider';
import { QuotaDirectory } from './directory-view';
import { RESERVATIONS } from './read-models';

/** Ledger appends race on one stream per quota and period; a write retries until it wins or is refused. */
export const LEDGER_RETRIES = 500;

/** Releasing a reservation early (the caller) and expiring it (the sweeper); settling is the usage reactor's. */

export class ReleaseReservation {
  constructor(
    readonly ctx: CommandContext,
    readonly orgId: string,
    readonly reservationId: string,
  ) {}
}
export class ExpireReservation {
  constructor(
    readonly ctx: CommandContext,
    readonly orgId: string,
    readonly quotaId: string,
    readonly period: string,
    readonly reservationId: string,
  ) {}
}

/** Releases what a reservation holds on some ledgers, one ordinary command per ledger. */
@Injectable()
export class ReservationReleaser {
  constructor(private readonly executor: CommandExecutor) {}

  /** Answers the position of the last event appended (-1 when none). */
  async releaseAll(
    list: Array<{ q: QuotaEntry; period: string }>,
    reservationId: string,
    reason: string,
    ctx: CommandContext,
    orgId: string,
  ): Promise<bigint> {
    let position = -1n;
    for (const { q, period } of list) {
      const r = await this.executor.execute(
        QuotaStreams.ledger(q.quotaId, period),
        ledgerDecider,
        { type: 'Release', quota: q, period, reservationId, reason },
        ctx,
        { orgId, maxRetries: LEDGER_RETRIES },
      );
      if (r.position > position) position = r.position;
    }
    return position;
  }
}

/** Releases a reservation early (the agent will not spend). Idempotent. */
@CommandHandler(ReleaseReservation)
@Injectable()
export class ReleaseReservationHandler implements ICommandHandler<ReleaseReservation> {
  constructor(
    private readonly executor: CommandExecutor,
    private readonly directory: QuotaDirectory,
    private readonly releaser: ReservationReleaser,
    @Inject(EVENT_STORE) private readonly events: EventStore,
    @Inject(READ_STORE) private readonly store: ReadStore,
  ) {}

  async execute({ ctx, orgId, reservationId }: ReleaseReservation) {
    await this.directory.liveOrg(orgId);
    const held = await this.store.find<{
      _id: string;
      quotaId: string;
      period: string;
      orgId: string;
      state: string;
    }>(RESERVATIONS, { reservationId, orgId }, { limit: 100 });
    if (!held.items.length)
      throw new NotFoundError(`reservation ${reservationId} not found in org ${orgId}`, [
        { field: 'reservationId', problem: 'unknown' },
      ]);
    const book = (await this.executor.current(QuotaStreams.book(orgId), quotaBookDecider)).state;
    const list = held.items
      .filter((h) => book.quotas.has(h.quotaId))
      .map((h) => ({ q: book.quotas.get(h.quotaId)!, period: h.period }));
    const position = await this.releaser.releaseAll(list, reservationId, 'released by caller', ctx, orgId);
    return {
      reservationId,
      released: list.length,
      position: (position < 0n ? await this.events.headPosition() : position).toString(),
    };
  }
}

/** Expires one reservation on one ledger (the sweeper sends it). */
@CommandHandler(ExpireReservation)
@Injectable()
export class ExpireReservationHandler implements ICommandHandler<ExpireReservation> {
  constructor(private readonly executor: CommandExecutor) {}

  async execute({ ctx, orgId, quotaId, period, reservationId }: ExpireReservation): Promise<void> {
    const q = (await this.executor.current(QuotaStreams.book(orgId), quotaBookDecider)).state.quotas.get(
      quotaId,
    );
    if (!q) return;
    await this.executor.execute(
      QuotaStreams.ledger(quotaId, period),
      ledgerDecider,
      { type: 'Expire', quota: q, period, reservationId, now: ctx.now },
      ctx,
      { orgId, maxRetries: LEDGER_RETRIES },
    );
  }
}

export const RESERVATION_HANDLERS = [ReleaseReservationHandler, ExpireReservationHandler];
