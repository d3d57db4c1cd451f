import { randomUUID } from 'node:crypto';
import {
  CollectionSpec,
  CommandExecutor,
  Document,
  UpdateOp,
  MessageBus,
  Projection,
  ReadStore,
  RecordedEvent,
  padPosition,
  positionGuard,
  periodKeys,
} from '@purser/core';
import { UsageRecorded } from '@purser/usage';
import { LedgerEvent, QuotaStreams } from './events';
import { covering, quotaBookDecider } from './book.decider';
import { ledgerDecider } from './ledger.decider';
import { QuotaDirectory } from './directory-view';
import { needsRate, weigh } from './weighing';
import { LEDGER_RETRIES } from './reservations';
import {
  ALERTS,
  QUOTA_ALERTS_RELAY,
  QUOTA_DECISIONS_PROJECTION,
  QUOTA_USAGE_PROJECTION,
  REFUSALS,
  RESERVATIONS,
} from './read-models';

/**
 * Counts every recorded usage against the quotas that cover it (user, team path as stamped on the usage, org),
 * settling the reservation it names. A reactor: it appends ledger events. Redeliveries are harmless: each ledger
 * remembers the position of the last usage it counted.
 */
export class QuotaUsageReactor implements Projection {
  readonly name = QUOTA_USAGE_PROJECTION;
  readonly filter = { eventTypes: ['UsageRecorded'] };
  readonly collections: CollectionSpec[] = [];

  constructor(
    private readonly executor: CommandExecutor,
    private readonly directory: QuotaDirectory,
  ) {}

  async handle(events: RecordedEvent[]): Promise<void> {
    // Each org's quota book is read once per batch (it changes rarely; a usage is counted against the book as it
    // is when the reactor gets to it, whether read per event or per batch).
    const books = new Map<string, ReturnType<typeof quotaBookDecider.evolve>>();
    // The usage streams of orgs without quotas in this batch (a usage stream belongs to one org): their events are
    // skipped on sight, without parsing them.
    const idle = new Set<string>();
    for (const e of events as RecordedEvent<UsageRecorded>[]) {
      if (idle.has(e.streamId)) continue;
      // An org without quotas has nothing to count: skip it before looking at the usage itself.
      const orgId = e.metadata.orgId ?? e.data.orgId;
      let book = books.get(orgId);
      if (!book) {
        book = (await this.executor.current(QuotaStreams.book(orgId), quotaBookDecider)).state;
        books.set(orgId, book);
      }
      if (book.quotas.size === 0) {
        idle.add(e.streamId);
        continue;
      }
      const u = e.data;
      const quotas = covering(book, u);
      if (!quotas.length) continue;
      const spend = {
        amount: u.amount,
        currency: u.currency,
        tokens: (u.inputTokens ?? 0) + (u.outputTokens ?? 0),
      };
      const rate = needsRate(quotas, spend, u.baseCurrency)
        ? await this.directory.rateAt(u.orgId, u.currency, u.baseCurrency, u.occurredAt)
        : null;
      const ctx = {
        actor: e.metadata.actor,
        correlationId: e.metadata.correlationId,
        causationId: e.metadata.eventId,
        now: e.metadata.occurredAt,
      };
      for (const q of quotas) {
        const period = q.period === 'none' ? 'all' : periodKeys(u.occurredAt, u.timeZone)[q.period];
        const weight = weigh(q, spend, u.baseCurrency, rate);
        await this.executor.execute(
          QuotaStreams.ledger(q.quotaId, period),
          ledgerDecider,
          {
            type: 'Count',
            quota: q,
            period,
            usageId: u.usageId,
            usagePosition: e.position,
            amount: weight ?? 0n,
            reservationId: u.reservationId,
            unconverted: weight === null ? { amount: u.amount, currency: u.currency } : null,
          },
          ctx,
          { orgId: u.orgId, maxRetries: LEDGER_RETRIES },
        );
      }
    }
  }
}

/** Reservations (for release and expiry) and refusals (the audit of decisions) as read models. */
export class QuotaDecisionsProjection implements Projection {
  readonly name = QUOTA_DECISIONS_PROJECTION;
  readonly filter = {
    eventTypes: [
      'QuotaReserved',
      'ReservationSettled',
      'ReservationReleased',
      'ReservationExpired',
      'QuotaCheckRefused',
      'QuotaWarningReached',
      'QuotaBreached',
    ],
  };
  readonly collections: CollectionSpec[] = [
    {
      name: RESERVATIONS,
      arrays: [],
      indexes: [{ fields: { state: 1, expiresAt: 1 } }, { fields: { reservationId: 1 } }],
    },
    {
      name: REFUSALS,
      arrays: [],
      indexes: [{ fields: { orgId: 1, at: 1 } }, { fields: { orgId: 1, 'requester.userId': 1, at: 1 } }],
    },
    {
      name: ALERTS,
      arrays: [],
      indexes: [{ fields: { orgId: 1, at: 1 } }, { fields: { orgId: 1, quotaId: 1, at: 1 } }],
    },
  ];

  /** One write per collection per batch: reservations as ordered single-document updates, the rest as inserts. */
  async handle(events: RecordedEvent[], store: ReadStore): Promise<void> {
    const alerts: Document[] = [];
    const refusals: Document[] = [];
    const ops: UpdateOp[] = [];
    for (const e of events as RecordedEvent<LedgerEvent>[]) {
      const d = e.data;
      const at = e.metadata.occurredAt;
      const position = padPosition(e.position);
      if (e.type === 'QuotaWarningReached' || e.type === 'QuotaBreached') {
        alerts.push({ _id: e.metadata.eventId, type: e.type, ...e.data, at, position });
      } else if (e.type === 'QuotaCheckRefused') {
        refusals.push({
          _id: e.metadata.eventId,
          ...e.data,
          at,
          actor: e.metadata.actor,
          correlationId: e.metadata.correlationId,
          position,
        });
      } else if ('reservationId' in d) {
        const id = `${d.reservationId}|${d.quotaId}`;
        const guard = positionGuard(e.position);
        if (e.type === 'QuotaReserved') {
          const { reservationId, orgId, quotaId, period, amount, expiresAt, requester } = e.data;
          ops.push({
            id,
            update: {
              $set: {
                reservationId,
                orgId,
                quotaId,
                period,
                amount,
                expiresAt,
                requester,
                state: 'live',
                at,
                _pos: position,
              },
            },
            options: { upsert: true, guard },
          });
        } else {
          const state =
            e.type === 'ReservationSettled'
              ? 'settled'
              : e.type === 'ReservationReleased'
                ? 'released'
                : 'expired';
          ops.push({ id, update: { $set: { state, closedAt: at, _pos: position } }, options: { guard } });
        }
      }
    }
    if (alerts.length) await store.insertMany(ALERTS, alerts);
    if (refusals.length) await store.insertMany(REFUSALS, refusals);
    if (ops.length) await store.bulkUpdate(RESERVATIONS, ops);
  }
}

/**
 * Publishes QuotaWarningReached and QuotaBreached on the message bus (Kafka topic purser.alerts.v1) for the
 * notification work. Driven from the event store with a checkpoint: at least once; consumers dedupe by eventId.
 */
export class QuotaAlertsRelay implements Projection {
  readonly name = QUOTA_ALERTS_RELAY;
  readonly filter = { eventTypes: ['QuotaWarningReached', 'QuotaBreached'] };
  readonly collections: CollectionSpec[] = [];

  constructor(
    private readonly bus: MessageBus,
    private readonly topic: string,
  ) {}

  async handle(events: RecordedEvent[]): Promise<void> {
    if (!events.length) return;
    await this.bus.publish(
      this.topic,
      events.map((e) => ({
        key: (e.data as { quotaId: string }).quotaId,
        value: {
          eventId: e.metadata.eventId,
          type: e.type,
          occurredAt: e.metadata.occurredAt,
          position: e.position.toString(),
          ...(e.data as object),
        },
        headers: {
          'x-purser-event-type': e.type,
          'x-purser-correlation-id': e.metadata.correlationId || randomUUID(),
        },
      })),
    );
  }
}
