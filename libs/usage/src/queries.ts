import { Inject, Injectable } from '@nestjs/common';
import {
  Filter,
  GRAINS,
  Grain,
  NotFoundError,
  READ_STORE,
  ReadStore,
  RuleViolationError,
  ValidationError,
  formatNanos,
  periodBounds,
  periodKeys,
  toNanos,
  zonedTimeToEpoch,
} from '@purser/core';
import {
  BUCKETS,
  BucketDoc,
  Entry,
  RATES,
  RECORDS,
  RateDoc,
  RecordDoc,
  TOTALS,
  decodeKey,
  encodeKey,
} from './projection';

export const DIMENSIONS = ['user', 'team', 'itemType', 'item'] as const;
export type Dimension = (typeof DIMENSIONS)[number];
export type GroupKey = Grain | Dimension;

export interface ExpenditureQuery {
  from: string;
  to: string;
  groupBy: GroupKey[];
  teamId?: string;
  userId?: string;
  itemType?: string;
  itemId?: string;
}

export interface MoneyView {
  amount: string;
  currency: string;
}
export interface FigureView {
  amounts: MoneyView[];
  base: { amount: string; currency: string; complete: boolean; unconverted: MoneyView[] };
  count: number;
}
export type RowView = FigureView & Partial<Record<'period' | Dimension, string>> & { periodStart?: string };

const MAP: Record<Dimension, 'byUser' | 'byTeam' | 'byItemType' | 'byItem'> = {
  user: 'byUser',
  team: 'byTeam',
  itemType: 'byItemType',
  item: 'byItem',
};
const FILTER_DIM: Record<'userId' | 'teamId' | 'itemType' | 'itemId', Dimension> = {
  userId: 'user',
  teamId: 'team',
  itemType: 'itemType',
  itemId: 'item',
};
const MAX_SCAN = 2_000_000;

/** Sums figures exactly (bigint nano-units), per currency. */
class Sum {
  a = new Map<string, bigint>();
  b = 0n;
  u = new Map<string, bigint>();
  n = 0;
  add(e: Entry): void {
    for (const [c, v] of Object.entries(e.a)) this.a.set(c, (this.a.get(c) ?? 0n) + toNanos(v));
    for (const [c, v] of Object.entries(e.u)) this.u.set(c, (this.u.get(c) ?? 0n) + toNanos(v));
    this.b += toNanos(e.b);
    this.n += e.n;
  }
  addRecord(r: RecordDoc): void {
    const nanos = toNanos(r.amount);
    this.a.set(r.currency, (this.a.get(r.currency) ?? 0n) + nanos);
    if (r.baseAmount === null) this.u.set(r.currency, (this.u.get(r.currency) ?? 0n) + nanos);
    else this.b += toNanos(r.baseAmount);
    this.n++;
  }
  view(baseCurrency: string): FigureView {
    const list = (m: Map<string, bigint>) =>
      [...m.entries()]
        .sort(([x], [y]) => (x < y ? -1 : 1))
        .map(([currency, v]) => ({ amount: formatNanos(v), currency }));
    return {
      amounts: list(this.a),
      base: {
        amount: formatNanos(this.b),
        currency: baseCurrency,
        complete: this.u.size === 0,
        unconverted: list(this.u),
      },
      count: this.n,
    };
  }
  baseNanos(): bigint {
    return this.b;
  }
}

interface OrgInfo {
  timeZone: string;
  baseCurrency: string;
}

/** Expenditure reports from the projected buckets; combinations the buckets cannot answer are summed from records. */
@Injectable()
export class ExpenditureQueries {
  constructor(@Inject(READ_STORE) private readonly store: ReadStore) {}

  private async org(orgId: string): Promise<OrgInfo> {
    const d = await this.store.get<{ _id: string; deleted: boolean; timeZone: string; baseCurrency: string }>(
      'dir_orgs',
      orgId,
    );
    if (!d || d.deleted)
      throw new NotFoundError(`org ${orgId} not found`, [{ field: 'orgId', problem: 'unknown' }]);
    return { timeZone: d.timeZone, baseCurrency: d.baseCurrency };
  }

  /** from/to: a local date (YYYY-MM-DD, in the org's zone) or an ISO instant. */
  private instant(value: string, field: string, tz: string): number {
    const date = /^(\d{4})-(\d{2})-(\d{2})$/.exec(value);
    const ms = date ? zonedTimeToEpoch(+date[1], +date[2], +date[3], 0, tz) : Date.parse(value);
    if (Number.isNaN(ms))
      throw new ValidationError(`${field} must be a date (YYYY-MM-DD) or an ISO-8601 instant`, [
        { field, problem: 'not a date' },
      ]);
    return ms;
  }

  private range(q: { from: string; to: string }, grain: Grain, tz: string) {
    const from = this.instant(q.from, 'from', tz);
    const to = this.instant(q.to, 'to', tz);
    if (to <= from)
      throw new ValidationError('to must be after from', [{ field: 'to', problem: 'not after from' }]);
    const maxDays = grain === 'hour' ? 93 : 3 * 366;
    if (to - from > maxDays * 86_400_000) {
      throw new ValidationError(`a ${grain} report covers at most ${maxDays} days`, [
        { field: 'to', problem: 'range too long' },
      ]);
    }
    const first = periodBounds(grain, from, tz);
    const last = periodBounds(grain, to - 1, tz);
    return { firstKey: first.key, lastKey: last.key, start: first.start, end: last.end };
  }

  async expenditure(orgId: string, q: ExpenditureQuery) {
    const org = await this.org(orgId);
    const grains = q.groupBy.filter((g): g is Grain => (GRAINS as readonly string[]).includes(g));
    const dims = q.groupBy.filter((g): g is Dimension => (DIMENSIONS as readonly string[]).includes(g));
    if (grains.length > 1)
      throw new ValidationError('groupBy may name at most one time grain', [
        { field: 'groupBy', problem: 'two grains' },
      ]);
    if (q.groupBy.length > 2)
      throw new ValidationError('groupBy takes at most two keys', [
        { field: 'groupBy', problem: 'too many' },
      ]);
    const grain: Grain = grains[0] ?? 'day';
    const range = this.range(q, grain, org.timeZone);
    const filters = (Object.keys(FILTER_DIM) as Array<keyof typeof FILTER_DIM>).filter(
      (f) => q[f] !== undefined,
    );
    const involved = new Set<Dimension>([...dims, ...filters.map((f) => FILTER_DIM[f])]);
    const fast = involved.size <= 1 && filters.length <= 1 && !(filters.includes('itemId') && !q.itemType);
    const rows = fast
      ? await this.fromBuckets(
          orgId,
          q,
          grains[0] ?? null,
          dims[0] ?? null,
          filters[0] ?? null,
          grain,
          range,
          org,
        )
      : await this.fromRecords(orgId, q, grains[0] ?? null, dims, range, org);
    return {
      orgId,
      from: range.start,
      to: range.end,
      timeZone: org.timeZone,
      groupBy: q.groupBy,
      source: fast ? 'buckets' : 'records',
      rows: rows.sums.map((r) => ({ ...r.keys, ...r.sum.view(org.baseCurrency) })),
      total: rows.total.view(org.baseCurrency),
    };
  }

  private async buckets(
    orgId: string,
    grain: Grain,
    firstKey: string,
    lastKey: string,
    collection: string = BUCKETS,
  ): Promise<BucketDoc[]> {
    const out: BucketDoc[] = [];
    let cursor: string | null | undefined;
    do {
      const page = await this.store.find<BucketDoc>(
        collection,
        { orgId, grain, period: { $gte: firstKey, $lte: lastKey } },
        { sort: { period: 1 }, limit: 2000, cursor },
      );
      out.push(...page.items);
      cursor = page.nextCursor;
    } while (cursor);
    return out;
  }

  private async fromBuckets(
    orgId: string,
    q: ExpenditureQuery,
    timeGrain: Grain | null,
    dim: Dimension | null,
    filter: keyof typeof FILTER_DIM | null,
    grain: Grain,
    range: { firstKey: string; lastKey: string },
    org: OrgInfo,
  ) {
    // Period-only reports read the small totals documents, not the per-dimension buckets.
    const docs = await this.buckets(
      orgId,
      grain,
      range.firstKey,
      range.lastKey,
      dim || filter ? BUCKETS : TOTALS,
    );
    const groups = new Map<string, { keys: Record<string, string>; sum: Sum }>();
    const bump = (key: string, keys: Record<string, string>, e: Entry | undefined) => {
      if (!e) return;
      let g = groups.get(key);
      if (!g) groups.set(key, (g = { keys, sum: new Sum() }));
      g.sum.add(e);
    };
    const filterKey =
      filter === null
        ? null
        : filter === 'itemId'
          ? encodeKey(`${q.itemType}:${q.itemId}`)
          : (q[filter] as string);
    const filterMap = filter === null ? null : MAP[FILTER_DIM[filter]];
    const total = new Sum();
    for (const d of docs) {
      const covered = filterMap ? d[filterMap]?.[filterKey!] : d.total;
      if (covered) total.add(covered);
      const timeKeys: Record<string, string> = timeGrain
        ? {
            period: d.period,
            periodStart: periodBounds(timeGrain, startOf(d.period, timeGrain, org.timeZone), org.timeZone)
              .start,
          }
        : {};
      const tkey = timeGrain ? d.period : '';
      if (dim) {
        for (const [k, e] of Object.entries(d[MAP[dim]] ?? {})) {
          if (filterKey !== null && k !== filterKey) continue;
          bump(`${tkey}|${k}`, { ...timeKeys, [dim]: dim === 'item' ? decodeKey(k) : k }, e);
        }
      } else {
        bump(tkey, timeKeys, covered);
      }
    }
    return { sums: [...groups.values()], total };
  }

  private async fromRecords(
    orgId: string,
    q: ExpenditureQuery,
    timeGrain: Grain | null,
    dims: Dimension[],
    range: { start: string; end: string },
    org: OrgInfo,
  ) {
    const groups = new Map<string, { keys: Record<string, string>; sum: Sum }>();
    const total = new Sum();
    let scanned = 0;
    for await (const r of this.scan(orgId, q, range.start, range.end)) {
      if (++scanned > MAX_SCAN) {
        throw new RuleViolationError(
          `this combination scans more than ${MAX_SCAN} records; narrow the period or the filters`,
          [{ field: 'groupBy', problem: 'too many records to scan' }],
        );
      }
      total.addRecord(r);
      const timeKeys: Record<string, string> = timeGrain
        ? { period: periodKeys(r.occurredAt, r.timeZone)[timeGrain] }
        : {};
      let combos: Array<Record<string, string>> = [timeKeys];
      for (const dim of dims) {
        const values =
          dim === 'user'
            ? [r.userId]
            : dim === 'team'
              ? r.teamPath
              : dim === 'itemType'
                ? [r.itemType]
                : [`${r.itemType}:${r.itemId}`];
        combos = combos.flatMap((c) => values.map((v) => ({ ...c, [dim]: v })));
      }
      for (const keys of combos) {
        const key = JSON.stringify(keys);
        let g = groups.get(key);
        if (!g) groups.set(key, (g = { keys, sum: new Sum() }));
        g.sum.addRecord(r);
      }
    }
    const sums = [...groups.values()].sort((x, y) =>
      JSON.stringify(x.keys) < JSON.stringify(y.keys) ? -1 : 1,
    );
    if (timeGrain)
      for (const s of sums)
        s.keys.periodStart = periodBounds(
          timeGrain,
          startOf(s.keys.period, timeGrain, org.timeZone),
          org.timeZone,
        ).start;
    return { sums, total };
  }

  private recordFilter(orgId: string, q: Partial<ExpenditureQuery>, start: string, end: string): Filter {
    const f: Filter = { orgId, occurredAt: { $gte: start, $lt: end } };
    if (q.userId) f.userId = q.userId;
    if (q.itemType) f.itemType = q.itemType;
    if (q.itemId) f.itemId = q.itemId;
    if (q.teamId) f.teamPath = q.teamId;
    return f;
  }

  async *scan(
    orgId: string,
    q: Partial<ExpenditureQuery>,
    start: string,
    end: string,
  ): AsyncGenerator<RecordDoc> {
    let cursor: string | null | undefined;
    do {
      const page = await this.store.find<RecordDoc>(RECORDS, this.recordFilter(orgId, q, start, end), {
        sort: { occurredAt: 1 },
        limit: 5000,
        cursor,
      });
      yield* page.items;
      cursor = page.nextCursor;
    } while (cursor);
  }

  async top(orgId: string, by: Dimension, q: { from: string; to: string; limit: number }) {
    const org = await this.org(orgId);
    const range = this.range(q, 'day', org.timeZone);
    const { sums } = await this.fromBuckets(
      orgId,
      { ...q, groupBy: [by] },
      null,
      by,
      null,
      'day',
      range,
      org,
    );
    sums.sort((x, y) => {
      const d = y.sum.baseNanos() - x.sum.baseNanos();
      return d > 0n ? 1 : d < 0n ? -1 : (x.keys[by] ?? '') < (y.keys[by] ?? '') ? -1 : 1;
    });
    return {
      orgId,
      by,
      from: range.start,
      to: range.end,
      rankedBy: `amount in ${org.baseCurrency} (the org's base currency)`,
      items: sums
        .slice(0, q.limit)
        .map((s, i) => ({ rank: i + 1, ...s.keys, ...s.sum.view(org.baseCurrency) })),
    };
  }

  async records(
    orgId: string,
    q: Partial<ExpenditureQuery> & { from: string; to: string; limit: number; cursor?: string },
  ) {
    const { start, end } = await this.recordsRange(orgId, q.from, q.to);
    const page = await this.store.find<RecordDoc>(RECORDS, this.recordFilter(orgId, q, start, end), {
      sort: { occurredAt: 1 },
      limit: q.limit,
      cursor: q.cursor,
    });
    return { items: page.items.map(recordView), nextCursor: page.nextCursor };
  }

  async recordsRange(orgId: string, from: string, to: string) {
    const org = await this.org(orgId);
    const a = this.instant(from, 'from', org.timeZone);
    const b = this.instant(to, 'to', org.timeZone);
    if (b <= a)
      throw new ValidationError('to must be after from', [{ field: 'to', problem: 'not after from' }]);
    return { start: new Date(a).toISOString(), end: new Date(b).toISOString() };
  }

  async rates(orgId: string) {
    await this.org(orgId);
    const doc = await this.store.get<RateDoc>(RATES, orgId);
    const items = Object.entries(doc?.rates ?? {}).flatMap(([key, list]) => {
      const [baseCurrency, currency] = key.split('>');
      return list.map((r) => ({
        currency,
        baseCurrency,
        rate: r.rate,
        effectiveFrom: r.effectiveFrom,
        setAt: r.setAt,
      }));
    });
    return { items };
  }
}

export function recordView(r: RecordDoc) {
  return {
    eventId: r.usageId,
    orgId: r.orgId,
    userId: r.userId,
    teamId: r.teamId,
    teamPath: r.teamPath,
    itemType: r.itemType,
    itemId: r.itemId,
    amount: r.amount,
    currency: r.currency,
    base: {
      amount: r.baseAmount,
      currency: r.baseCurrency,
      rate: r.rate,
      rateEffectiveFrom: r.rateEffectiveFrom,
      rateMissing: r.baseAmount === null,
    },
    inputTokens: r.inputTokens,
    outputTokens: r.outputTokens,
    model: r.model,
    occurredAt: r.occurredAt,
    recordedAt: r.recordedAt,
    reservationId: r.reservationId,
    attributes: r.attributes,
    position: String(Number(r.position)),
  };
}

/** An instant inside a period, from its key (for its bounds). */
function startOf(key: string, grain: Grain, tz: string): number {
  const k = grain === 'week' ? key.slice(1) : key;
  const m = /^(\d{4})-(\d{2})(?:-(\d{2}))?(?:T(\d{2}))?$/.exec(k)!;
  return zonedTimeToEpoch(+m[1], +m[2], m[3] ? +m[3] : 1, m[4] ? +m[4] : 0, tz) + 1;
}
