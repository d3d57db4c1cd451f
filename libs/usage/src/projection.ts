import {
  CollectionSpec,
  Document,
  GRAINS,
  Grain,
  Projection,
  ReadStore,
  RecordedEvent,
  UpdateOp,
  convertNanos,
  formatNanos,
  padPosition,
  parseRate,
  periodKeys,
  toNanos,
} from '@purser/core';
import { ExchangeRateSet, UsageEvent, UsageRecorded } from './events';

export const EXPENDITURE_PROJECTION = 'expenditure';
export const BUCKETS = 'exp_buckets';
/** Totals alone, one small document per (org, grain, period): what period-only reports read. */
export const TOTALS = 'exp_totals';
export const RECORDS = 'exp_records';
export const RATES = 'exp_rates';

/** Spend of one slice: exact decimal strings per currency, the base-currency equivalent, what could not be converted. */
export interface Entry {
  /** currency -> amount */
  a: Record<string, string>;
  /** amount in the org's base currency, for the converted part */
  b: string;
  /** currency -> amount that had no exchange rate to the base currency */
  u: Record<string, string>;
  /** number of usage records */
  n: number;
}

/** One period of one org at one grain, with totals and per-dimension slices (teams include their sub-teams). */
export interface BucketDoc extends Document {
  orgId: string;
  grain: Grain;
  period: string;
  baseCurrency: string;
  total: Entry;
  byUser: Record<string, Entry>;
  byTeam: Record<string, Entry>;
  byItemType: Record<string, Entry>;
  byItem: Record<string, Entry>;
  _pos: string;
}

export interface TotalDoc extends Document {
  orgId: string;
  grain: Grain;
  period: string;
  baseCurrency: string;
  total: Entry;
  _pos: string;
}

export interface RecordDoc extends Document {
  orgId: string;
  usageId: string;
  userId: string;
  teamId: string | null;
  teamPath: string[];
  itemType: string;
  itemId: string;
  amount: string;
  currency: string;
  baseCurrency: string;
  baseAmount: string | null;
  rate: string | null;
  rateEffectiveFrom: string | null;
  inputTokens: number | null;
  outputTokens: number | null;
  model: string | null;
  occurredAt: string;
  recordedAt: string;
  reservationId: string | null;
  attributes: Record<string, string>;
  timeZone: string;
  position: string;
}

export interface RateDoc extends Document {
  orgId: string;
  /** `${baseCurrency}>${currency}` -> rates sorted by effectiveFrom */
  rates: Record<string, Array<{ rate: string; effectiveFrom: string; setAt: string }>>;
  _pos: string;
}

/**
 * Map keys become field-path segments, which read stores accept as letters, digits, '_' and '-' only. Item keys
 * (`Tool:web.search`) are encoded reversibly: any other character, and '_' itself, becomes `_xx` (its hex code).
 */
export const encodeKey = (k: string) =>
  k.replace(/[^A-Za-z0-9-]/g, (c) => `_${c.charCodeAt(0).toString(16).padStart(2, '0')}`);
export const decodeKey = (k: string) =>
  k.replace(/_([0-9a-f]{2})/g, (_m, h: string) => String.fromCharCode(parseInt(h, 16)));
export const bucketId = (orgId: string, grain: Grain, period: string) => `${orgId}|${grain}|${period}`;
/**
 * A record's id: its org and the position of its UsageRecorded event. Unique (a usage is recorded once), the same on
 * every redelivery (idempotent inserts), and increasing, so inserts append to the id index instead of landing on a
 * random page of it (a page write per record per batch on SQLite).
 */
export const recordId = (orgId: string, position: bigint) => `${orgId}:${padPosition(position)}`;

/**
 * The record document of one usage: what it was recorded as, its amount in the org's base currency (`base`, in
 * nano-units; null without a rate) and the rate used, at `position`, recorded at `recordedAt`.
 */
export function usageRecord(
  d: UsageRecorded['data'],
  position: bigint,
  recordedAt: string,
  base: bigint | null,
  rate: { rate: string; effectiveFrom: string } | null,
): RecordDoc {
  return {
    _id: recordId(d.orgId, position),
    orgId: d.orgId,
    usageId: d.usageId,
    userId: d.userId,
    teamId: d.teamId,
    teamPath: d.teamPath,
    itemType: d.itemType,
    itemId: d.itemId,
    amount: d.amount,
    currency: d.currency,
    baseCurrency: d.baseCurrency,
    baseAmount: base === null ? null : formatNanos(base),
    rate: d.currency === d.baseCurrency ? '1' : (rate?.rate ?? null),
    rateEffectiveFrom: d.currency === d.baseCurrency ? null : (rate?.effectiveFrom ?? null),
    inputTokens: d.inputTokens,
    outputTokens: d.outputTokens,
    model: d.model,
    occurredAt: d.occurredAt,
    recordedAt,
    reservationId: d.reservationId,
    attributes: d.attributes,
    timeZone: d.timeZone,
    position: padPosition(position),
  };
}

/** Bucket documents kept in memory by the projection (a few periods of a few grains per active org). */
const BUCKET_CACHE_SIZE = 1024;

/** Accumulator of one slice in nano-units. */
class Acc {
  a = new Map<string, bigint>();
  b = 0n;
  u = new Map<string, bigint>();
  n = 0;
  add(currency: string, nanos: bigint, base: bigint | null): void {
    this.a.set(currency, (this.a.get(currency) ?? 0n) + nanos);
    if (base === null) this.u.set(currency, (this.u.get(currency) ?? 0n) + nanos);
    else this.b += base;
    this.n++;
  }
  merge(o: Acc): void {
    for (const [c, v] of o.a) this.a.set(c, (this.a.get(c) ?? 0n) + v);
    for (const [c, v] of o.u) this.u.set(c, (this.u.get(c) ?? 0n) + v);
    this.b += o.b;
    this.n += o.n;
  }
  mergeInto(prev: Entry | undefined): Entry {
    const a: Record<string, string> = { ...(prev?.a ?? {}) };
    for (const [c, v] of this.a) a[c] = formatNanos(toNanos(a[c] ?? '0') + v);
    const u: Record<string, string> = { ...(prev?.u ?? {}) };
    for (const [c, v] of this.u) u[c] = formatNanos(toNanos(u[c] ?? '0') + v);
    return { a, b: formatNanos(toNanos(prev?.b ?? '0') + this.b), u, n: (prev?.n ?? 0) + this.n };
  }
}

class BucketDelta {
  total = new Acc();
  byUser = new Map<string, Acc>();
  byTeam = new Map<string, Acc>();
  byItemType = new Map<string, Acc>();
  byItem = new Map<string, Acc>();
  lastPos = -1n;
  constructor(
    readonly orgId: string,
    readonly grain: Grain,
    readonly period: string,
    readonly baseCurrency: string,
  ) {}
  add(d: UsageRecorded['data'], nanos: bigint, base: bigint | null, position: bigint): void {
    this.total.add(d.currency, nanos, base);
    slice(this.byUser, d.userId).add(d.currency, nanos, base);
    for (const t of d.teamPath) slice(this.byTeam, t).add(d.currency, nanos, base);
    slice(this.byItemType, d.itemType).add(d.currency, nanos, base);
    slice(this.byItem, encodeKey(`${d.itemType}:${d.itemId}`)).add(d.currency, nanos, base);
    this.lastPos = position;
  }
  merge(o: BucketDelta): void {
    this.total.merge(o.total);
    for (const dim of ['byUser', 'byTeam', 'byItemType', 'byItem'] as const)
      for (const [k, acc] of o[dim]) slice(this[dim], k).merge(acc);
    if (o.lastPos > this.lastPos) this.lastPos = o.lastPos;
  }
}

/** Period keys by zone and 15-minute slot (every zone's offset is a multiple of 15 minutes): Intl is slow. */
const keyCache = new Map<string, Record<Grain, string>>();
function cachedPeriodKeys(occurredAt: string, timeZone: string): Record<Grain, string> {
  const ms = Date.parse(occurredAt);
  const k = `${timeZone}|${Math.floor(ms / 900_000)}`;
  let keys = keyCache.get(k);
  if (!keys) {
    if (keyCache.size >= 50_000) keyCache.clear();
    keyCache.set(k, (keys = periodKeys(ms, timeZone)));
  }
  return keys;
}

const slice = (m: Map<string, Acc>, k: string) => {
  let acc = m.get(k);
  if (!acc) m.set(k, (acc = new Acc()));
  return acc;
};

/**
 * Expenditure read models from UsageRecorded (and ExchangeRateSet): one record per usage, and buckets per org,
 * grain and period in the org's time zone with exact per-currency totals and slices by user, team (with sub-teams),
 * item type and item. Batches are aggregated in memory and each touched document is written once; every write is
 * guarded by position, and a redelivered event is skipped for any document that has already seen it.
 */
export class ExpenditureProjection implements Projection {
  readonly name = EXPENDITURE_PROJECTION;
  readonly filter = { eventTypes: ['UsageRecorded', 'ExchangeRateSet'] };
  readonly collections: CollectionSpec[] = [
    { name: BUCKETS, arrays: [], indexes: [{ fields: { orgId: 1, grain: 1, period: 1 } }] },
    { name: TOTALS, arrays: [], indexes: [{ fields: { orgId: 1, grain: 1, period: 1 } }] },
    {
      name: RECORDS,
      arrays: ['teamPath'],
      // By org, user and item. Records of an item type or a team are read through the org's index and filtered:
      // an item type is a quarter of the org's usage or more, and each index costs every ingested event its upkeep.
      indexes: [
        { fields: { orgId: 1, occurredAt: 1 } },
        { fields: { orgId: 1, userId: 1, occurredAt: 1 } },
        { fields: { orgId: 1, itemId: 1, occurredAt: 1 } },
      ],
    },
    { name: RATES },
  ];
  private rates = new Map<string, RateDoc>();
  /**
   * The bucket documents as this projection last wrote them (recent periods, LRU). It is their only writer, so it
   * need not read them back each batch; every write is conditioned on the stored version being the one cached, and
   * a mismatch (another writer) fails the batch, which is then delivered again and read afresh.
   */
  private buckets = new Map<string, BucketDoc | null>();

  async handle(events: RecordedEvent[], store: ReadStore): Promise<void> {
    const typed = events as RecordedEvent<UsageEvent>[];
    // Rates first seen in this batch are loaded once; a rate event applies to the usage after it.
    const orgIds = [...new Set(typed.map((e) => e.data.orgId))].filter((o) => !this.rates.has(o));
    if (orgIds.length) {
      const docs = await store.getMany<RateDoc>(RATES, orgIds);
      for (const d of docs) this.rates.set(d._id, d);
    }
    // Learn which buckets already saw which positions (idempotency across redeliveries).
    const keyed = new Map<string, BucketDelta>();
    const ids = new Set<string>();
    const keysOf = new Map<RecordedEvent, Record<Grain, string>>();
    let firstPos: string | null = null;
    for (const e of typed) {
      if (e.type !== 'UsageRecorded') continue;
      const keys = cachedPeriodKeys(e.data.occurredAt, e.data.timeZone);
      keysOf.set(e, keys);
      firstPos ??= padPosition(e.position);
      for (const g of GRAINS) ids.add(bucketId(e.data.orgId, g, keys[g]));
    }
    const existing = new Map<string, BucketDoc>();
    const unknown: string[] = [];
    for (const id of ids) {
      const cached = this.buckets.get(id);
      if (cached === undefined) unknown.push(id);
      else if (cached) existing.set(id, cached);
    }
    if (unknown.length) {
      const found = new Map((await store.getMany<BucketDoc>(BUCKETS, unknown)).map((d) => [d._id, d]));
      for (const id of unknown) {
        const doc = found.get(id) ?? null;
        if (doc) existing.set(id, doc);
        this.remember(id, doc);
      }
    }
    const existingTotals = new Map((await store.getMany<TotalDoc>(TOTALS, [...ids])).map((d) => [d._id, d]));
    const totals = new Map<
      string,
      { orgId: string; grain: Grain; period: string; baseCurrency: string; total: Acc; lastPos: bigint }
    >();
    const totalFor = (orgId: string, g: Grain, period: string, baseCurrency: string) => {
      const id = bucketId(orgId, g, period);
      let t = totals.get(id);
      if (!t) totals.set(id, (t = { orgId, grain: g, period, baseCurrency, total: new Acc(), lastPos: -1n }));
      return t;
    };
    const deltaFor = (orgId: string, g: Grain, period: string, baseCurrency: string) => {
      const id = bucketId(orgId, g, period);
      let delta = keyed.get(id);
      if (!delta) keyed.set(id, (delta = new BucketDelta(orgId, g, period, baseCurrency)));
      return delta;
    };
    // The usual case: no document has seen any event of this batch. Events are summed per hour, and the hours are
    // rolled up into days, weeks and months (far fewer additions than every event into every grain). Otherwise (a
    // redelivery after a partial write) each event goes to each document that has not seen it.
    const fresh =
      firstPos !== null &&
      [...ids].every(
        (id) =>
          (existing.get(id)?._pos ?? '') < firstPos! && (existingTotals.get(id)?._pos ?? '') < firstPos!,
      );
    const hours = new Map<string, { delta: BucketDelta; keys: Record<Grain, string> }>();
    const records: RecordDoc[] = [];
    const dirtyRates = new Map<string, bigint>();

    for (const e of typed) {
      if (e.type === 'ExchangeRateSet') {
        if (this.applyRate(e)) dirtyRates.set(e.data.orgId, e.position);
        continue;
      }
      const d = e.data;
      const nanos = toNanos(d.amount);
      const rate = this.rateFor(d);
      const base =
        d.currency === d.baseCurrency ? nanos : rate ? convertNanos(nanos, parseRate(rate.rate)!) : null;
      records.push(usageRecord(e.data, e.position, e.metadata.occurredAt, base, rate));
      const keys = keysOf.get(e)!;
      if (fresh) {
        const hourId = bucketId(d.orgId, 'hour', keys.hour);
        let h = hours.get(hourId);
        if (!h)
          hours.set(
            hourId,
            (h = { delta: new BucketDelta(d.orgId, 'hour', keys.hour, d.baseCurrency), keys }),
          );
        h.delta.add(d, nanos, base, e.position);
        continue;
      }
      const pos = padPosition(e.position);
      for (const g of GRAINS) {
        const id = bucketId(d.orgId, g, keys[g]);
        if ((existingTotals.get(id)?._pos ?? '') < pos) {
          const t = totalFor(d.orgId, g, keys[g], d.baseCurrency);
          t.total.add(d.currency, nanos, base);
          t.lastPos = e.position;
        }
        if ((existing.get(id)?._pos ?? '') >= pos) continue; // already applied to this bucket
        deltaFor(d.orgId, g, keys[g], d.baseCurrency).add(d, nanos, base, e.position);
      }
    }
    for (const { delta: h, keys } of hours.values()) {
      for (const g of GRAINS) {
        const t = totalFor(h.orgId, g, keys[g], h.baseCurrency);
        t.total.merge(h.total);
        if (h.lastPos > t.lastPos) t.lastPos = h.lastPos;
        if (g === 'hour') keyed.set(bucketId(h.orgId, g, keys[g]), h);
        else deltaFor(h.orgId, g, keys[g], h.baseCurrency).merge(h);
      }
    }

    if (records.length) await store.insertMany(RECORDS, records);
    const ops: UpdateOp[] = [];
    const written: BucketDoc[] = [];
    for (const [id, delta] of keyed) {
      // Each dimension map is written whole (one field per dimension rather than one per user or team), on the
      // version of the document read or cached above.
      const prev = existing.get(id);
      const $set: Record<string, unknown> = {
        orgId: delta.orgId,
        grain: delta.grain,
        period: delta.period,
        baseCurrency: delta.baseCurrency,
        total: delta.total.mergeInto(prev?.total),
        _pos: padPosition(delta.lastPos),
      };
      for (const dim of ['byUser', 'byTeam', 'byItemType', 'byItem'] as const) {
        const map: Record<string, Entry> = { ...(prev?.[dim] ?? {}) };
        for (const [k, acc] of delta[dim]) map[k] = acc.mergeInto(map[k]);
        $set[dim] = map;
      }
      ops.push({
        id,
        update: { $set },
        options: { upsert: true, guard: prev ? { _pos: prev._pos } : { _pos: { $exists: false } } },
      });
      written.push({ _id: id, ...$set } as BucketDoc);
    }
    if (ops.length) {
      let results;
      try {
        results = await store.bulkUpdate(BUCKETS, ops);
      } catch (err) {
        this.buckets.clear();
        throw err;
      }
      const stale = results.findIndex((r) => !r.matched && !r.upserted);
      if (stale >= 0) {
        this.buckets.clear();
        throw new Error(
          `expenditure bucket ${ops[stale].id} changed under the projection (another writer?); delivering the batch again`,
        );
      }
      for (const doc of written) this.remember(doc._id, doc);
    }
    const totalOps: UpdateOp[] = [...totals].map(([id, t]) => ({
      id,
      update: {
        $set: {
          orgId: t.orgId,
          grain: t.grain,
          period: t.period,
          baseCurrency: t.baseCurrency,
          total: t.total.mergeInto(existingTotals.get(id)?.total),
          _pos: padPosition(t.lastPos),
        },
      },
      options: { upsert: true, guard: { _pos: { $lt: padPosition(t.lastPos) } } },
    }));
    if (totalOps.length) await store.bulkUpdate(TOTALS, totalOps);
    for (const [orgId, position] of dirtyRates) {
      const doc = this.rates.get(orgId)!;
      await store.update(
        RATES,
        orgId,
        { $set: { orgId, rates: doc.rates, _pos: padPosition(position) } },
        { upsert: true, guard: { _pos: { $lt: padPosition(position) } } },
      );
    }
  }

  /** Applies a rate to the in-memory table; false when it was already there (a redelivery). */
  private applyRate(e: RecordedEvent<ExchangeRateSet>): boolean {
    const { orgId, currency, baseCurrency, rate, effectiveFrom } = e.data;
    let doc = this.rates.get(orgId);
    if (!doc) this.rates.set(orgId, (doc = { _id: orgId, orgId, rates: {}, _pos: '' }));
    if (doc._pos >= padPosition(e.position)) return false;
    const key = `${baseCurrency}>${currency}`;
    const list = (doc.rates[key] ?? []).filter((r) => r.effectiveFrom !== effectiveFrom);
    list.push({ rate, effectiveFrom, setAt: e.metadata.occurredAt });
    list.sort((x, y) => (x.effectiveFrom < y.effectiveFrom ? -1 : x.effectiveFrom > y.effectiveFrom ? 1 : 0));
    doc.rates = { ...doc.rates, [key]: list };
    doc._pos = padPosition(e.position);
    return true;
  }

  private rateFor(d: UsageRecorded['data']): { rate: string; effectiveFrom: string } | null {
    const list = this.rates.get(d.orgId)?.rates[`${d.baseCurrency}>${d.currency}`];
    if (!list) return null;
    let found: { rate: string; effectiveFrom: string } | null = null;
    for (const r of list) if (r.effectiveFrom <= d.occurredAt) found = r;
    return found;
  }

  private remember(id: string, doc: BucketDoc | null): void {
    this.buckets.delete(id);
    this.buckets.set(id, doc);
    if (this.buckets.size > BUCKET_CACHE_SIZE)
      this.buckets.delete(this.buckets.keys().next().value as string);
  }

  /** For rebuilds: forget cached rates and buckets (the collections are dropped). */
  reset(): void {
    this.rates.clear();
    this.buckets.clear();
  }
}
