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
  ValidationError,
  WrongExpectedVersionError,
  convertNanos,
  formatNanos,
  isCurrency,
  parseDecimal,
  parseRate,
  periodBounds,
  toNanos,
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
import { QuotaRefusal, ledgerDecider, reservedAt } from './ledger.decider';
import { LedgerEvent } from './events';

export const RESERVATIONS = 'quota_reservations';
export const REFUSALS = 'quota_refusals';
export const ALERTS = 'quota_alerts';
/** Ledger appends race on one stream per quota and period; a check retries until it wins or is refused. */
const LEDGER_RETRIES = 500;

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
   * Check and reserve. Every applicable quota is reserved in turn (in quota id order) on its ledger stream with
   * optimistic concurrency; a hard quota without room refuses, the reservations already made are released, and the
   * refusal is recorded on the refusing quota's ledger.
   */
  async check(orgId: string, input: CheckInput, ctx: CommandContext) {
    const org = await this.org(orgId);
    const { state: user } = await this.executor.current(Streams.user(input.userId), userDecider);
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
      const tree = (await this.executor.current(Streams.teams(orgId), teamTreeDecider)).state;
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
    const book = await this.book(orgId);
    const scope = { orgId, userId: input.userId, teamPath, itemType: input.itemType, itemId: input.itemId };
    const quotas = covering(book, scope);
    const rates = (await this.executor.current(UsageStreams.rates(orgId), ratesDecider)).state;
    const now = ctx.now;
    const reservationId = randomUUID();
    const expiresAt = new Date(Date.parse(now) + this.config.reservationTtlMs).toISOString();
    const requester: Requester = {
      userId: input.userId,
      teamId: teamId ?? null,
      itemType: input.itemType,
      itemId: input.itemId,
    };

    const weights = new Map<string, bigint>();
    for (const q of quotas) {
      const w = this.weigh(q, input.estimate, org.baseCurrency, rates, now);
      if (w === null) {
        const need =
          q.metric === 'tokens'
            ? 'estimate.tokens'
            : `an exchange rate from ${input.estimate.currency} to ${org.baseCurrency}, or estimate.amount in ${org.baseCurrency}`;
        throw new RuleViolationError(`quota ${q.quotaId} limits ${q.metric}: the check needs ${need}`, [
          { field: 'estimate', problem: 'cannot weigh', quotaId: q.quotaId },
        ]);
      }
      weights.set(q.quotaId, w);
    }

    const ledgers = quotas.map((q) => ({ q, period: periodOf(q, now, org.timeZone).key }));
    let position = -1n;
    let refusal: QuotaRefusal | null = null;
    /** Each ledger's figures as decided on: the answer is built from them, not from a second read. */
    const seen = new Map<string, { used: bigint; reserved: bigint }>();
    for (let attempt = 0; ; attempt++) {
      seen.clear();
      // Decide every reservation on the ledgers as read, then append them all at once, each conditioned on the
      // revision it was decided on (one transaction on SQLite). A ledger that moved meanwhile fails its append:
      // what did land is released and the check is decided again. No decision ever rests on a stale figure.
      const decided: Array<{
        q: QuotaEntry;
        period: string;
        streamId: string;
        revision: bigint;
        events: LedgerEvent[];
      }> = [];
      let stale = false;
      for (const { q, period } of ledgers) {
        const streamId = QuotaStreams.ledger(q.quotaId, period);
        const { state, revision } = await this.executor.current(streamId, ledgerDecider);
        const command = {
          type: 'Reserve' as const,
          quota: q,
          period,
          reservationId,
          amount: weights.get(q.quotaId)!,
          now,
          expiresAt,
          requester,
        };
        try {
          decided.push({ q, period, streamId, revision, events: ledgerDecider.decide(command, state) });
          seen.set(q.quotaId, { used: state.used, reserved: reservedAt(state, now) + command.amount });
        } catch (err) {
          if (err instanceof StaleStateError) {
            stale = true;
            break;
          }
          if (!(err instanceof QuotaRefusal)) throw err;
          refusal = err;
          seen.set(q.quotaId, { used: err.used, reserved: err.reserved });
          const r = await this.executor.execute(
            streamId,
            ledgerDecider,
            {
              type: 'RecordRefusal',
              quota: q,
              period,
              reservationId,
              requested: weights.get(q.quotaId)!,
              now,
              requester,
            },
            ctx,
            { orgId, maxRetries: LEDGER_RETRIES },
          );
          position = r.position;
          break;
        }
      }
      if (refusal) break;
      if (stale) continue;
      const outcomes = await this.events.appendMany(
        decided.map((d) => ({
          streamId: d.streamId,
          events: this.executor.toAppend(d.events, ctx, orgId),
          expected: d.revision < 0n ? ('no_stream' as const) : d.revision,
        })),
      );
      const landed = decided.filter((_, i) => outcomes[i].ok);
      for (const o of outcomes) if (o.ok && o.result.position > position) position = o.result.position;
      if (landed.length === decided.length) break;
      const failure = outcomes.find((o) => !o.ok) as { ok: false; error: Error };
      const released = await this.releaseAll(
        landed,
        reservationId,
        'retried after a concurrent check',
        ctx,
        orgId,
      );
      if (released > position) position = released;
      if (!(failure.error instanceof WrongExpectedVersionError) || attempt >= LEDGER_RETRIES)
        throw failure.error;
    }
    const views = await Promise.all(
      ledgers.map(({ q }) => {
        const figures = seen.get(q.quotaId);
        // Quotas after a refusing one were not decided on: read them.
        return figures
          ? viewOf(q, periodOf(q, now, org.timeZone), figures)
          : this.view(orgId, q, org.timeZone, now);
      }),
    );
    return {
      allowed: refusal === null,
      reservationId: refusal ? null : reservationId,
      expiresAt: refusal ? null : expiresAt,
      refusedBy: refusal
        ? {
            quotaId: refusal.quota.quotaId,
            entityType: refusal.quota.entityType,
            entityId: refusal.quota.entityId,
            message: refusal.message,
          }
        : null,
      quotas: views,
      position: position.toString(),
    };
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
