import { Inject, Injectable, OnApplicationBootstrap, OnApplicationShutdown } from '@nestjs/common';
import { READ_STORE, ReadStore, SYSTEM_ACTOR } from '@purser/core';
import { CONFIG, LOGGER, ProjectionHost, PurserConfig, PurserLogger } from '@purser/platform';
import { randomUUID } from 'node:crypto';
import { CommandBus } from '@nestjs/cqrs';
import { RESERVATIONS } from './read-models';
import { ExpireReservation } from './reservations';

/**
 * Records ReservationExpired for reservations nobody settled or released in time. Expired reservations already hold
 * nothing in checks (expiry is evaluated at decision time); this makes the fact visible in the history.
 */
@Injectable()
export class ReservationSweeper implements OnApplicationBootstrap, OnApplicationShutdown {
  private timer: NodeJS.Timeout | null = null;
  private running = false;

  constructor(
    private readonly commands: CommandBus,
    private readonly host: ProjectionHost,
    @Inject(READ_STORE) private readonly store: ReadStore,
    @Inject(CONFIG) private readonly config: PurserConfig,
    @Inject(LOGGER) private readonly logger: PurserLogger,
  ) {}

  onApplicationBootstrap(): void {
    if (!this.host.runs('sweeper')) return;
    this.timer = setInterval(() => void this.sweep(), this.config.reservationSweepMs);
    this.timer.unref();
  }

  onApplicationShutdown(): void {
    if (this.timer) clearInterval(this.timer);
  }

  /** Expires what is due now; answers how many. */
  async sweep(now = new Date().toISOString()): Promise<number> {
    if (this.running) return 0;
    this.running = true;
    let n = 0;
    try {
      const due = await this.store.find<{
        _id: string;
        orgId: string;
        quotaId: string;
        period: string;
        reservationId: string;
      }>(RESERVATIONS, { state: 'live', expiresAt: { $lte: now } }, { sort: { expiresAt: 1 }, limit: 500 });
      for (const r of due.items) {
        const ctx = { actor: SYSTEM_ACTOR, correlationId: randomUUID(), causationId: null, now };
        await this.commands.execute(
          new ExpireReservation(ctx, r.orgId, r.quotaId, r.period, r.reservationId),
        );
        n++;
      }
    } catch (err) {
      this.logger.warn({ err: (err as Error).message }, 'reservation sweep failed; will retry');
    } finally {
      this.running = false;
    }
    return n;
  }
}
