import { Inject, Injectable } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import {
  CommandContext,
  CommandExecutor,
  EVENT_STORE,
  EventStore,
  NotFoundError,
  READ_STORE,
  ReadStore,
  RuleViolationError,
  StaleStateError,
  StreamWriteOutcome,
  ValidationError,
  WrongExpectedVersionError,
  accepted,
  isRefusal,
  convertNanos,
  formatNanos,
  isCurrency,
  parseDecimal,
  parseRate,
  periodBounds,
  toNanos,
  uuidv7,
} from '@purser/core';
import { CONFIG, PurserConfig } from '@purser/platform';
import {
  OrgState,
  Streams,
  ancestors,
  assertLive,
  orgDecider,
  teamTreeDecider,
  userDecider,
} from '@purser/directory';
import { UsageStreams, rateAt, ratesDecider } from '@purser/usage';
import {
  EntityType,
  Enforcement,
  Metric,
  QuotaDefinition,
  QuotaPeriod,
  QuotaStreams,
  Requester,
} from './events';
import { QuotaEntry, covering, liveQuota, quotaBookDecider } from './book.decider';
import { LedgerState, QuotaRefusal, ledgerDecider, reservedAt } from './ledger.decider';
import { LedgerEvent } from './events';

export const RESERVATIONS = 'quota_reservations';
export const REFUSALS = 'quota_refusals';
export const ALERTS = 'quota_alerts';
/** Ledger appends race on one stream per quota and period; a check retries until it wins or is refused. */
const LEDGER_RETRIES = 500;
/** Most checks decided and appended together (one group commit). */
const MAX_BATCH = 256;

export interface CheckResult {
  allowed: boolean;
  reservationId: string | null;
  expiresAt: string | null;
  refusedBy: { quotaId: string; entityType: EntityType; entityId: string; message: string } | null;
  quotas: QuotaView[];
  /** Global position of the check's last event (-1 when no quota applies). */
  position: string;
}

/** A check waiting for its batch. */
interface PendingCheck {
  orgId: string;
  input: CheckInput;
  ctx: CommandContext;
  /** Kept across retries: a retried check releases what it held under this id and reserves it again. */
  reservationId: string;
  attempts: number;
  resolve(result: CheckResult): void;
  reject(err: unknown): void;
}

/** A validated check: the ledgers it weighs on, in quota id order, with its weight on each. */
interface CheckPlan {
  check: PendingCheck;
  ledgers: Array<{
    q: QuotaEntry;
    period: { key: string; start: string | null; end: string | null };
    streamId: string;
    amount: bigint;
  }>;
  expiresAt: string;
  requester: Requester;
}

/** One ledger during a batch: the state read, the state with the batch's events folded in, and those events. */
interface LedgerWork {
  streamId: string;
  base: { state: LedgerState; revision: bigint; position: bigint };
  state: LedgerState;
  events: Array<{ event: LedgerEvent; ctx: CommandContext; orgId: string }>;
}

interface Figures {
  used: bigint;
  reserved: bigint;
}

export interface DefineQuotaInput {
  entityType: EntityType;
  entityId: string;
  itemType?: string | null;
  itemId?: string | null;
  metric: Metric;
  limit: string;
  period?: QuotaPeriod;
  enforcement?: Enforcement;
  thresholds?: number[];
  currency?: string;
}

export interface CheckInput {
  userId: string;
  teamId?: string;
  itemType: string;
  itemId: string;
  estimate: { amount?: string; currency?: string; tokens?: number };
}

export interface QuotaView {
  quotaId: string;
  entityType: EntityType;
  entityId: string;
  itemType: string | null;
  itemId: string | null;
  metric: Metric;
  currency: string | null;
  limit: string;
  period: QuotaPeriod;
  enforcement: Enforcement;
  thresholds: number[];
  currentPeriod: { key: string; start: string | null; end: string | null };
  used: string;
  reserved: string;
  remaining: string;
  revision: string;
}

export function periodOf(q: { period: QuotaPeriod }, at: string | number, timeZone: string) {
  if (q.period === 'none') return { key: 'all', start: null, end: null };
  return periodBounds(q.period, at, timeZone);
}

/** Quota definitions, views, and check-and-reserve: the serialization point is each quota's ledger stream. */
@Injectable()
export class QuotasService {
  constructor(
    private readonly executor: CommandExecutor,
    @Inject(EVENT_STORE) private readonly events: EventStore,
    @Inject(READ_STORE) private readonly store: ReadStore,
    @Inject(CONFIG) private readonly config: PurserConfig,
  ) {}

  async org(orgId: string): Promise<OrgState> {
    const { state } = await this.executor.current(Streams.org(orgId), orgDecider);
    assertLive(state, orgId);
    return state;
  }

  async book(orgId: string) {
    return (await this.executor.current(QuotaStreams.book(orgId), quotaBookDecider)).state;
  }

  async define(orgId: string, input: DefineQuotaInput, ctx: CommandContext) {
    const org = await this.org(orgId);
    await this.assertEntity(orgId, input.entityType, input.entityId);
    if (input.itemId && !input.itemType)
      throw new ValidationError('itemId needs itemType', [{ field: 'itemType', problem: 'missing' }]);
    if (input.metric === 'cost' && input.currency && input.currency !== org.baseCurrency) {
      throw new RuleViolationError(`cost quotas are kept in the org's base currency ${org.baseCurrency}`, [
        { field: 'currency', problem: 'not the base currency' },
      ]);
    }
    if (input.metric !== 'cost' && input.currency) {
      throw new ValidationError(`${input.metric} quotas have no currency`, [
        { field: 'currency', problem: 'not allowed' },
      ]);
    }
    const definition: QuotaDefinition = {
      quotaId: randomUUID(),
      orgId,
      entityType: input.entityType,
      entityId: input.entityId,
      itemType: input.itemType ?? null,
      itemId: input.itemId ?? null,
      metric: input.metric,
      currency: input.metric === 'cost' ? org.baseCurrency : null,
      limit: normalizeLimit(input.metric, input.limit),
      period: input.period ?? 'month',
      enforcement: input.enforcement ?? 'hard',
      thresholds: normalizeThresholds(input.thresholds ?? [50, 80, 90]),
    };
    const r = await this.executor.execute(
      QuotaStreams.book(orgId),
      quotaBookDecider,
      { type: 'DefineQuota', definition },
      ctx,
      { orgId },
    );
    return {
      id: definition.quotaId,
      position: r.position.toString(),
      revision: '0',
      events: r.events.map((e) => e.type),
    };
  }

  async change(
    orgId: string,
    quotaId: string,
    changes: Partial<Pick<QuotaDefinition, 'limit' | 'period' | 'enforcement' | 'thresholds'>>,
    expectedVersion: number | undefined,
    ctx: CommandContext,
  ) {
    await this.org(orgId);
    const q = liveQuota(await this.book(orgId), quotaId);
    const normalized = { ...changes };
    if (changes.limit !== undefined) normalized.limit = normalizeLimit(q.metric, changes.limit);
    if (changes.thresholds !== undefined) normalized.thresholds = normalizeThresholds(changes.thresholds);
    const r = await this.executor.execute(
      QuotaStreams.book(orgId),
      quotaBookDecider,
      { type: 'ChangeQuota', quotaId, changes: normalized, expectedVersion },
      ctx,
      { orgId },
    );
    const after = (await this.book(orgId)).quotas.get(quotaId)!;
    return {
      id: quotaId,
      position: r.position.toString(),
      revision: String(after.version),
      events: r.events.map((e) => e.type),
    };
  }

  async remove(orgId: string, quotaId: string, expectedVersion: number | undefined, ctx: CommandContext) {
    await this.org(orgId);
    const r = await this.executor.execute(
      QuotaStreams.book(orgId),
      quotaBookDecider,
      { type: 'RemoveQuota', quotaId, expectedVersion },
      ctx,
      { orgId },
    );
    return { id: quotaId, position: r.position.toString(), events: r.events.map((e) => e.type) };
  }

  private async assertEntity(orgId: string, type: EntityType, id: string): Promise<void> {
    if (type === 'Org') {
      if (id !== orgId)
        throw new RuleViolationError('an Org quota must name this org', [
          { field: 'entityId', problem: 'another org' },
        ]);
      return;
    }
    if (type === 'Team') {
      const tree = (await this.executor.current(Streams.teams(orgId), teamTreeDecider)).state;
      const t = tree.teams.get(id);
      if (!t || t.deleted)
        throw new NotFoundError(`team ${id} not found in org ${orgId}`, [
          { field: 'entityId', problem: 'unknown team' },
        ]);
      return;
    }
    const { state: u } = await this.executor.current(Streams.user(id), userDecider);
    if (!u.exists || u.deleted || u.orgId !== orgId)
      throw new NotFoundError(`user ${id} not found in org ${orgId}`, [
        { field: 'entityId', problem: 'unknown user' },
      ]);
  }

  /** A quota with its figures for the period in force now. */
  async view(
    orgId: string,
    q: QuotaEntry,
    timeZone: string,
    now = new Date().toISOString(),
  ): Promise<QuotaView> {
    const period = periodOf(q, now, timeZone);
    return viewOf(q, period, await this.figures(q.quotaId, period.key, now));
  }

  async list(orgId: string, filter: { entityType?: EntityType; entityId?: string }) {
    const org = await this.org(orgId);
    const book = await this.book(orgId);
    const items: QuotaView[] = [];
    for (const q of book.quotas.values()) {
      if (q.removed) continue;
      if (filter.entityType && q.entityType !== filter.entityType) continue;
      if (filter.entityId && q.entityId !== filter.entityId) continue;
      items.push(await this.view(orgId, q, org.timeZone));
    }
    return { items };
  }

  async get(orgId: string, quotaId: string) {
    const org = await this.org(orgId);
    return this.view(orgId, liveQuota(await this.book(orgId), quotaId), org.timeZone);
  }

  /** Every quota that applies to a user: theirs, every team they are in and its ancestors, and the org's. */
  async forUser(orgId: string, userId: string) {
    const org = await this.org(orgId);
    const { state: user } = await this.executor.current(Streams.user(userId), userDecider);
    if (!user.exists || user.deleted || user.orgId !== orgId)
      throw new NotFoundError(`user ${userId} not found in org ${orgId}`, [
        { field: 'userId', problem: 'unknown' },
      ]);
    const tree = (await this.executor.current(Streams.teams(orgId), teamTreeDecider)).state;
    const teams = new Set<string>();
    for (const t of user.teamIds) {
      if (!tree.teams.get(t) || tree.teams.get(t)!.deleted) continue;
      teams.add(t);
      for (const a of ancestors(tree, t)) teams.add(a.teamId);
    }
    const book = await this.book(orgId);
    const items: Array<QuotaView & { via: string }> = [];
    for (const q of book.quotas.values()) {
      if (q.removed) continue;
      const scope =
        q.entityType === 'Org'
          ? q.entityId === orgId
          : q.entityType === 'User'
            ? q.entityId === userId
            : teams.has(q.entityId);
      if (!scope) continue;
      items.push({
        ...(await this.view(orgId, q, org.timeZone)),
        via:
          q.entityType === 'Team'
            ? `team ${tree.teams.get(q.entityId)?.name ?? q.entityId}`
            : q.entityType.toLowerCase(),
      });
    }
    return { userId, items };
  }

  /** The amount a usage or an estimate weighs on a quota, in its metric (nano-units); null when it cannot convert. */
  weigh(
    q: QuotaDefinition,
    u: { amount?: string; currency?: string; tokens?: number },
    baseCurrency: string,
    rates: Parameters<typeof rateAt>[0],
    at: string,
  ): bigint | null {
    if (q.metric === 'requests') return 1_000_000_000n;
    if (q.metric === 'tokens') return u.tokens === undefined ? null : BigInt(u.tokens) * 1_000_000_000n;
    if (u.amount === undefined || u.currency === undefined) return null;
    const nanos = toNanos(u.amount);
    if (u.currency === baseCurrency) return nanos;
    const rate = rateAt(rates, baseCurrency, u.currency, at);
    return rate === null ? null : convertNanos(nanos, parseRate(rate)!);
  }

  /**
   * Check and reserve. Checks are decided in batches (group commit): the checks that arrive while a batch is under
   * way (or in one event-loop turn) wait for it, then are decided together in one pass on the ledgers' cached states
   * (brought up to date by one read of $all, see CommandExecutor.catchUp), each hard quota refusing what would pass
   * its limit given the reservations decided before it, even those of the same batch. The whole batch is appended
   * with one appendMany (one transaction on SQLite), one write per ledger, each conditioned on the revision its
   * decisions rest on: the event store, not this process, is the serialization point, so several API instances can
   * never overspend a quota. A ledger that moved meanwhile (another instance, the usage reactor, the sweeper) fails
   * its write: the checks that wrote to it release what did land elsewhere and are decided again on fresh states.
   * A refused check records its refusal on the refusing quota's ledger (conditioned the same way).
   */
  check(orgId: string, input: CheckInput, ctx: CommandContext): Promise<CheckResult> {
    return new Promise<CheckResult>((resolve, reject) => {
      // Time-ordered ids: the reservations read model's indexes then grow at their end (one page per commit, not one
      // random page per reservation), which is most of what the in-process projection costs per check.
      this.pending.push({ orgId, input, ctx, reservationId: uuidv7(), attempts: 0, resolve, reject });
      this.scheduleBatch();
    });
  }

  private readonly pending: PendingCheck[] = [];
  private batching = false;

  private scheduleBatch(): void {
    if (this.batching) return;
    this.batching = true;
    setImmediate(() => void this.drain());
  }

  private async drain(): Promise<void> {
    try {
      while (this.pending.length) {
        const batch = this.pending.splice(0, MAX_BATCH);
        await this.checkBatch(batch).catch((err: unknown) => {
          for (const c of batch) c.reject(err);
        });
      }
    } finally {
      this.batching = false;
      if (this.pending.length) this.scheduleBatch();
    }
  }

  /** Validates a check and works out the ledgers it weighs on (from cached states brought up to date by catchUp). */
  private async plan(c: PendingCheck): Promise<CheckPlan> {
    const { orgId, input, ctx } = c;
    const { state: org } = await this.executor.recent(Streams.org(orgId), orgDecider);
    assertLive(org, orgId);
    const { state: user } = await this.executor.recent(Streams.user(input.userId), userDecider);
    if (!user.exists || user.deleted || user.orgId !== orgId)
      throw new NotFoundError(`user ${input.userId} not found in org ${orgId}`, [
        { field: 'userId', problem: 'unknown' },
      ]);
    const teamId = input.teamId ?? user.primaryTeamId;
    let teamPath: string[] = [];
    if (teamId) {
      if (!user.teamIds.includes(teamId))
        throw new RuleViolationError(`user ${input.userId} is not a member of team ${teamId}`, [
          { field: 'teamId', problem: 'not a member' },
        ]);
      const tree = (await this.executor.recent(Streams.teams(orgId), teamTreeDecider)).state;
      teamPath = [teamId, ...ancestors(tree, teamId).map((t) => t.teamId)];
    }
    if (input.estimate.amount !== undefined) {
      if (input.estimate.currency === undefined || !isCurrency(input.estimate.currency)) {
        throw new ValidationError(
          'estimate.currency must be an ISO 4217 code when estimate.amount is given',
          [{ field: 'estimate.currency', problem: 'missing or invalid' }],
        );
      }
      const n = parseDecimal(input.estimate.amount);
      if (n === null || n < 0n)
        throw new ValidationError('estimate.amount must be a non-negative decimal string', [
          { field: 'estimate.amount', problem: 'invalid' },
        ]);
    }
    const book = (await this.executor.recent(QuotaStreams.book(orgId), quotaBookDecider)).state;
    const scope = { orgId, userId: input.userId, teamPath, itemType: input.itemType, itemId: input.itemId };
    const quotas = covering(book, scope);
    const rates = (await this.executor.recent(UsageStreams.rates(orgId), ratesDecider)).state;
    const now = ctx.now;
    const ledgers: CheckPlan['ledgers'] = [];
    for (const q of quotas) {
      const amount = this.weigh(q, input.estimate, org.baseCurrency, rates, now);
      if (amount === null) {
        const need =
          q.metric === 'tokens'
            ? 'estimate.tokens'
            : `an exchange rate from ${input.estimate.currency} to ${org.baseCurrency}, or estimate.amount in ${org.baseCurrency}`;
        throw new RuleViolationError(`quota ${q.quotaId} limits ${q.metric}: the check needs ${need}`, [
          { field: 'estimate', problem: 'cannot weigh', quotaId: q.quotaId },
        ]);
      }
      const period = periodOf(q, now, org.timeZone);
      ledgers.push({ q, period, streamId: QuotaStreams.ledger(q.quotaId, period.key), amount });
    }
    return {
      check: c,
      ledgers,
      expiresAt: new Date(Date.parse(now) + this.config.reservationTtlMs).toISOString(),
      requester: {
        userId: input.userId,
        teamId: teamId ?? null,
        itemType: input.itemType,
        itemId: input.itemId,
      },
    };
  }

  /** One group commit: see check(). */
  private async checkBatch(batch: PendingCheck[]): Promise<void> {
    await this.executor.catchUp();
    const plans: CheckPlan[] = [];
    for (const c of batch) {
      try {
        plans.push(await this.plan(c));
      } catch (err) {
        c.reject(err);
      }
    }
    // Every ledger's state as of the catch-up (read only when not cached), then one synchronous pass of decisions.
    const work = new Map<string, LedgerWork>();
    for (const p of plans) {
      for (const l of p.ledgers) {
        if (work.has(l.streamId)) continue;
        const base = await this.executor.recent(l.streamId, ledgerDecider);
        work.set(l.streamId, { streamId: l.streamId, base, state: base.state, events: [] });
      }
    }
    const decided: Array<{ plan: CheckPlan; streams: LedgerWork[]; outcome: Omit<CheckResult, 'position'> }> =
      [];
    try {
      for (const p of plans) decided.push(this.decideOne(p, work));
    } catch (err) {
      // A cached state was superseded by a concurrent fold (see ReservationBook), or a decider failed: nothing was
      // appended; roll back what this pass folded and decide every check again (or fail them).
      for (const w of work.values()) this.rollBack(w);
      for (const p of plans) this.retryOrFail(p.check, err);
      return;
    }
    const writes = [...work.values()].filter((w) => w.events.length);
    let outcomes: StreamWriteOutcome[];
    try {
      outcomes = await this.events.appendMany(
        writes.map((w) => ({
          streamId: w.streamId,
          events: w.events.map(({ event, ctx, orgId }) => ({
            type: event.type,
            data: event.data,
            metadata: this.executor.metadata(event.type, ctx, orgId),
          })),
          expected: w.base.revision < 0n ? ('no_stream' as const) : w.base.revision,
        })),
      );
    } catch (err) {
      for (const w of writes) this.rollBack(w);
      for (const d of decided) d.plan.check.reject(err);
      return;
    }
    const landed = new Map<LedgerWork, bigint>();
    const failed = new Map<LedgerWork, Error>();
    writes.forEach((w, i) => {
      const o = outcomes[i];
      if (o.ok) {
        landed.set(w, o.result.position);
        this.executor.remember(
          w.streamId,
          ledgerDecider,
          { state: w.state, revision: o.result.nextRevision, position: o.result.position },
          true,
        );
      } else {
        failed.set(w, o.error);
        this.rollBack(w);
      }
    });
    for (const { plan, streams, outcome } of decided) {
      const failure = streams.map((w) => failed.get(w)).find((e) => e !== undefined);
      if (!failure) {
        const position = streams.reduce((m, w) => (landed.get(w)! > m ? landed.get(w)! : m), -1n);
        plan.check.resolve({ ...outcome, position: position.toString() });
        continue;
      }
      // Part of this check did not land: release what did (a refusal holds nothing), then decide it again.
      if (outcome.allowed) {
        const held = plan.ledgers.filter((l) =>
          streams.some((w) => w.streamId === l.streamId && landed.has(w)),
        );
        try {
          await this.releaseAll(
            held.map((l) => ({ q: l.q, period: l.period.key })),
            plan.check.reservationId,
            'retried after a concurrent check',
            plan.check.ctx,
            plan.check.orgId,
          );
        } catch (err) {
          plan.check.reject(err);
          continue;
        }
      }
      this.retryOrFail(plan.check, failure);
    }
  }

  /** Decides one check on the batch's working states and folds its events into them. */
  private decideOne(
    p: CheckPlan,
    work: Map<string, LedgerWork>,
  ): { plan: CheckPlan; streams: LedgerWork[]; outcome: Omit<CheckResult, 'position'> } {
    const { orgId, ctx, reservationId } = p.check;
    const now = ctx.now;
    const reserved: Array<{ w: LedgerWork; events: LedgerEvent[]; figures: Figures }> = [];
    for (const l of p.ledgers) {
      const w = work.get(l.streamId)!;
      const terms = { quota: l.q, period: l.period.key, reservationId, now, requester: p.requester };
      const decision = ledgerDecider.decide(
        { ...terms, type: 'Reserve', amount: l.amount, expiresAt: p.expiresAt },
        w.state,
      );
      if (!isRefusal(decision)) {
        const events = decision;
        reserved.push({
          w,
          events,
          figures: { used: w.state.used, reserved: reservedAt(w.state, now) + l.amount },
        });
      } else {
        const err = decision.refused as QuotaRefusal;
        // Refused: nothing is reserved anywhere; the refusal is recorded on the refusing ledger.
        const events = accepted(
          ledgerDecider.decide({ ...terms, type: 'RecordRefusal', requested: l.amount }, w.state),
        );
        this.fold(w, events, ctx, orgId);
        const views = p.ledgers.map((m) => {
          const figures =
            m === l
              ? { used: err.used, reserved: err.reserved }
              : {
                  used: work.get(m.streamId)!.state.used,
                  reserved: reservedAt(work.get(m.streamId)!.state, now),
                };
          return viewOf(m.q, m.period, figures);
        });
        return {
          plan: p,
          streams: [w],
          outcome: {
            allowed: false,
            reservationId: null,
            expiresAt: null,
            refusedBy: {
              quotaId: err.quota.quotaId,
              entityType: err.quota.entityType,
              entityId: err.quota.entityId,
              message: err.message,
            },
            quotas: views,
          },
        };
      }
    }
    for (const r of reserved) this.fold(r.w, r.events, ctx, orgId);
    return {
      plan: p,
      streams: reserved.map((r) => r.w),
      outcome: {
        allowed: true,
        reservationId,
        expiresAt: p.expiresAt,
        refusedBy: null,
        quotas: p.ledgers.map((l, i) => viewOf(l.q, l.period, reserved[i].figures)),
      },
    };
  }

  private fold(w: LedgerWork, events: LedgerEvent[], ctx: CommandContext, orgId: string): void {
    for (const event of events) {
      w.state = ledgerDecider.evolve(w.state, event);
      w.events.push({ event, ctx, orgId });
    }
  }

  /**
   * Undoes what a batch folded into a ledger's state but did not append: the reservations are taken out of the
   * shared ReservationBook again (a refusal changes no state), and the state is cached at the revision it was read
   * at, to be read again up to the stream's tail before it is trusted. If the book has meanwhile moved on, the
   * cached state is dropped and the ledger is read again from its start.
   */
  private rollBack(w: LedgerWork): void {
    if (!w.events.length) return;
    try {
      let state = w.state;
      for (const { event } of w.events) {
        if (event.type !== 'QuotaReserved') continue;
        const { quotaId, orgId, period, reservationId, amount } = event.data;
        state = ledgerDecider.evolve(state, {
          type: 'ReservationReleased',
          data: { quotaId, orgId, period, reservationId, amount, reason: 'not appended' },
        });
      }
      this.executor.remember(
        w.streamId,
        ledgerDecider,
        { state, revision: w.base.revision, position: w.base.position },
        false,
      );
    } catch {
      this.executor.forget(w.streamId);
    }
    w.events = [];
  }

  private retryOrFail(c: PendingCheck, err: unknown): void {
    const retriable = err instanceof WrongExpectedVersionError || err instanceof StaleStateError;
    if (!retriable || ++c.attempts > LEDGER_RETRIES) return c.reject(err);
    this.pending.push(c);
  }

  private async releaseAll(
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
        {
          orgId,
          maxRetries: LEDGER_RETRIES,
        },
      );
      if (r.position > position) position = r.position;
    }
    return position;
  }

  /** Releases a reservation early (the agent will not spend). Idempotent. */
  async release(orgId: string, reservationId: string, ctx: CommandContext) {
    await this.org(orgId);
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
    const book = await this.book(orgId);
    const list = held.items
      .filter((h) => book.quotas.has(h.quotaId))
      .map((h) => ({ q: book.quotas.get(h.quotaId)!, period: h.period }));
    const position = await this.releaseAll(list, reservationId, 'released by caller', ctx, orgId);
    return {
      reservationId,
      released: list.length,
      position: (position < 0n ? await this.events.headPosition() : position).toString(),
    };
  }

  /** Expires one reservation on one ledger (the sweeper calls it). */
  async expire(
    orgId: string,
    quotaId: string,
    period: string,
    reservationId: string,
    ctx: CommandContext,
  ): Promise<void> {
    const q = (await this.book(orgId)).quotas.get(quotaId);
    if (!q) return;
    await this.executor.execute(
      QuotaStreams.ledger(quotaId, period),
      ledgerDecider,
      { type: 'Expire', quota: q, period, reservationId, now: ctx.now },
      ctx,
      {
        orgId,
        maxRetries: LEDGER_RETRIES,
      },
    );
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

function normalizeLimit(metric: Metric, limit: string): string {
  const n = parseDecimal(limit);
  if (n === null || n < 0n)
    throw new ValidationError('limit must be a non-negative decimal string', [
      { field: 'limit', problem: 'invalid' },
    ]);
  if (metric !== 'cost' && n % 1_000_000_000n !== 0n) {
    throw new ValidationError(`a ${metric} limit must be a whole number`, [
      { field: 'limit', problem: 'not an integer' },
    ]);
  }
  return formatNanos(n);
}

function normalizeThresholds(t: number[]): number[] {
  for (const x of t) {
    if (!Number.isInteger(x) || x < 1 || x > 100)
      throw new ValidationError('thresholds are whole percents from 1 to 100', [
        { field: 'thresholds', problem: 'out of range' },
      ]);
  }
  return [...new Set(t)].sort((a, b) => a - b);
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
