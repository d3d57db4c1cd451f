import { Inject, Injectable } from '@nestjs/common';
import { CommandHandler, ICommandHandler } from '@nestjs/cqrs';
import {
  CommandContext,
  CommandExecutor,
  Decided,
  EVENT_STORE,
  EventStore,
  GroupCommit,
  GroupCommitHandler,
  PendingCommand,
  RuleViolationError,
  StreamWork,
  ValidationError,
  accepted,
  isCurrency,
  isRefusal,
  parseDecimal,
  uuidv7,
} from '@purser/core';
import { CONFIG, PurserConfig } from '@purser/platform';
import { EntityType, LedgerEvent, QuotaStreams, Requester } from './events';
import { QuotaEntry, covering, quotaBookDecider } from './book.decider';
import { LedgerState, QuotaRefusal, ledgerDecider, reservedAt } from './ledger.decider';
import { QuotaDirectory } from './directory-view';
import { LEDGER_RETRIES, ReservationReleaser } from './reservations';
import { QuotaView, viewOf } from './views';
import { Spend, needsRate, periodOf, weigh } from './weighing';

/** Most checks decided and appended together (one group commit). */
const MAX_BATCH = 256;

export interface CheckInput {
  userId: string;
  teamId?: string;
  itemType: string;
  itemId: string;
  estimate: Spend;
}

export interface CheckResult {
  allowed: boolean;
  reservationId: string | null;
  expiresAt: string | null;
  refusedBy: { quotaId: string; entityType: EntityType; entityId: string; message: string } | null;
  quotas: QuotaView[];
  /** Global position of the check's last event (-1 when no quota applies). */
  position: string;
}

/** Check and reserve before spending (POST .../quota-checks). */
export class CheckQuota {
  constructor(
    readonly ctx: CommandContext,
    readonly orgId: string,
    readonly input: CheckInput,
  ) {}
}

/** A check waiting for its batch. */
interface PendingCheck extends PendingCommand<CheckResult> {
  orgId: string;
  input: CheckInput;
  /** Kept across retries: a retried check releases what it held under this id and reserves it again. */
  reservationId: string;
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

type Outcome = Omit<CheckResult, 'position'>;
type LedgerWork = StreamWork<LedgerState, LedgerEvent>;
type CheckCommit = GroupCommit<PendingCheck, CheckPlan, LedgerState, LedgerEvent, Outcome, CheckResult>;

/**
 * Check and reserve. Checks are decided in batches by core's GroupCommit: the checks that arrive while a batch is
 * under way (or in one event-loop turn) are decided together in one pass on the ledgers' cached states (brought up to
 * date by one read of $all, see StateCache.catchUp), each hard quota refusing what would pass its limit given the
 * reservations decided before it, even those of the same batch. The batch is appended with one appendMany, one
 * write per ledger conditioned on the revision its decisions rest on: the event store is the serialization point,
 * so several API instances can never overspend a quota. A ledger that moved meanwhile (another instance, the usage
 * reactor, the sweeper) fails its write: the checks that wrote to it release what did land elsewhere and are decided
 * again on fresh states. A refused check records its refusal on the refusing quota's ledger (conditioned the same
 * way) and is answered as a decision (allowed: false), which the HTTP edge turns into a 429.
 */
@Injectable()
export class QuotaCheck implements GroupCommitHandler<
  PendingCheck,
  CheckPlan,
  LedgerState,
  LedgerEvent,
  Outcome,
  CheckResult
> {
  readonly decider = ledgerDecider;
  private readonly commits: CheckCommit;

  constructor(
    private readonly executor: CommandExecutor,
    private readonly directory: QuotaDirectory,
    private readonly releaser: ReservationReleaser,
    @Inject(EVENT_STORE) events: EventStore,
    @Inject(CONFIG) private readonly config: PurserConfig,
  ) {
    this.commits = new GroupCommit(this, executor.states, executor.stamper, events, {
      maxBatch: MAX_BATCH,
      maxRetries: LEDGER_RETRIES,
    });
  }

  check(orgId: string, input: CheckInput, ctx: CommandContext): Promise<CheckResult> {
    return new Promise<CheckResult>((resolve, reject) => {
      // Time-ordered ids: the reservations read model's indexes then grow at their end (one page per commit, not one
      // random page per reservation), which is most of what the in-process projection costs per check.
      this.commits.submit({ orgId, input, ctx, reservationId: uuidv7(), attempts: 0, resolve, reject });
    });
  }

  begin(): Promise<void> {
    return this.executor.catchUp();
  }

  /** Validates a check and works out the ledgers it weighs on (from cached states brought up to date by begin). */
  async plan(c: PendingCheck): Promise<CheckPlan> {
    const { orgId, input, ctx } = c;
    const { org, teamId, teamPath } = await this.directory.checkScope(orgId, input.userId, input.teamId);
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
    const now = ctx.now;
    const rate = needsRate(quotas, input.estimate, org.baseCurrency)
      ? await this.directory.rateAt(orgId, input.estimate.currency!, org.baseCurrency, now, 'recent')
      : null;
    const ledgers: CheckPlan['ledgers'] = [];
    for (const q of quotas) {
      const amount = weigh(q, input.estimate, org.baseCurrency, rate);
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
        teamId,
        itemType: input.itemType,
        itemId: input.itemId,
      },
    };
  }

  streamsOf(plan: CheckPlan): ReadonlyArray<{ streamId: string }> {
    return plan.ledgers;
  }

  /** Decides one check on the batch's working states and folds its events into them. */
  decide(p: CheckPlan, work: ReadonlyMap<string, LedgerWork>): Decided<Outcome> {
    const { orgId, ctx, reservationId } = p.check;
    const now = ctx.now;
    const reserved: Array<{
      w: LedgerWork;
      events: LedgerEvent[];
      figures: { used: bigint; reserved: bigint };
    }> = [];
    for (const l of p.ledgers) {
      const w = work.get(l.streamId)!;
      const terms = { quota: l.q, period: l.period.key, reservationId, now, requester: p.requester };
      const decision = ledgerDecider.decide(
        { ...terms, type: 'Reserve', amount: l.amount, expiresAt: p.expiresAt },
        w.state,
      );
      if (!isRefusal(decision)) {
        reserved.push({
          w,
          events: decision,
          figures: { used: w.state.used, reserved: reservedAt(w.state, now) + l.amount },
        });
        continue;
      }
      const err = decision.refused as QuotaRefusal;
      // Refused: nothing is reserved anywhere; the refusal is recorded on the refusing ledger.
      w.apply(
        accepted(ledgerDecider.decide({ ...terms, type: 'RecordRefusal', requested: l.amount }, w.state)),
        ctx,
        orgId,
      );
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
        streams: [w],
        holds: false,
        result: {
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
    for (const r of reserved) r.w.apply(r.events, ctx, orgId);
    return {
      streams: reserved.map((r) => r.w),
      holds: true,
      result: {
        allowed: true,
        reservationId,
        expiresAt: p.expiresAt,
        refusedBy: null,
        quotas: p.ledgers.map((l, i) => viewOf(l.q, l.period, reserved[i].figures)),
      },
    };
  }

  finish(result: Outcome, position: bigint): CheckResult {
    return { ...result, position: position.toString() };
  }

  /** Part of an allowed check did not land: release what did, before it is decided again. */
  async compensate(plan: CheckPlan, landed: string[]): Promise<void> {
    const held = plan.ledgers.filter((l) => landed.includes(l.streamId));
    await this.releaser.releaseAll(
      held.map((l) => ({ q: l.q, period: l.period.key })),
      plan.check.reservationId,
      'retried after a concurrent check',
      plan.check.ctx,
      plan.check.orgId,
    );
  }

  /** Takes the reservations that were folded but not appended out of the shared ReservationBook again. */
  unfold(state: LedgerState, notAppended: LedgerEvent[]): LedgerState {
    for (const event of notAppended) {
      if (event.type !== 'QuotaReserved') continue;
      const { quotaId, orgId, period, reservationId, amount } = event.data;
      state = ledgerDecider.evolve(state, {
        type: 'ReservationReleased',
        data: { quotaId, orgId, period, reservationId, amount, reason: 'not appended' },
      });
    }
    return state;
  }
}

@CommandHandler(CheckQuota)
@Injectable()
export class CheckQuotaHandler implements ICommandHandler<CheckQuota> {
  constructor(private readonly quotaCheck: QuotaCheck) {}

  execute({ ctx, orgId, input }: CheckQuota): Promise<CheckResult> {
    return this.quotaCheck.check(orgId, input, ctx);
  }
}
