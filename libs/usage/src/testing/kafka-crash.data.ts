import { randomUUID } from 'node:crypto';
import type { Api } from '@purser/testkit';

/**
 * The data of the Kafka crash test (usage.kafka-crash.int.spec.ts): its org, seeded random usage events, and the reports
 * they must give, computed with exact decimal arithmetic independent of the code under test.
 */

export const TIME_ZONE = 'Europe/Paris';
export const EVENTS = 10_000;
export const USERS = 50;
export const HTTP_BATCH = 500;
/** Copies per chunk: about half go over HTTP (one batch), half to Kafka (one produce call). */
export const CHUNK = 2 * HTTP_BATCH;
export const USD_RATE = '0.917346251';
const ITEMS: Array<[string, string]> = [
  ['Agent', 'research-agent'],
  ['Agent', 'support.bot'],
  ['Tool', 'web.search'],
  ['Tool', 'code-runner'],
  ['Assistant', 'helper'],
  ['Prompt', 'summary-v2'],
];

// ---- exact decimal arithmetic, independent of the code under test ----

const NANOS = 1_000_000_000n;

function nanosOf(amount: string): bigint {
  const m = /^(\d+)(?:\.(\d{1,9}))?$/.exec(amount);
  if (!m) throw new Error(`bad amount ${amount}`);
  return BigInt(m[1]) * NANOS + BigInt((m[2] ?? '').padEnd(9, '0'));
}

function decimal(nanos: bigint): string {
  const frac = (nanos % NANOS).toString().padStart(9, '0').replace(/0+$/, '');
  return `${nanos / NANOS}${frac ? `.${frac}` : ''}`;
}

/** amount x rate rounded half-to-even to nine decimals (the documented rule for one record's base amount). */
function convert(nanos: bigint, rate: string): bigint {
  const [i, f = ''] = rate.split('.');
  const scale = 10n ** BigInt(f.length);
  const product = nanos * (BigInt(i) * scale + BigInt(f || '0'));
  let q = product / scale;
  const twice = (product % scale) * 2n;
  if (twice > scale || (twice === scale && q % 2n === 1n)) q += 1n;
  return q;
}

export class Figure {
  amounts = new Map<string, bigint>();
  base = 0n;
  unconverted = new Map<string, bigint>();
  count = 0;

  add(currency: string, nanos: bigint, base: bigint | null): void {
    this.amounts.set(currency, (this.amounts.get(currency) ?? 0n) + nanos);
    if (base === null) this.unconverted.set(currency, (this.unconverted.get(currency) ?? 0n) + nanos);
    else this.base += base;
    this.count++;
  }

  /** The figure as the API shows it. */
  view() {
    const list = (m: Map<string, bigint>) =>
      [...m.entries()]
        .sort(([x], [y]) => (x < y ? -1 : 1))
        .map(([currency, v]) => ({ amount: decimal(v), currency }));
    return {
      amounts: list(this.amounts),
      base: {
        amount: decimal(this.base),
        currency: 'EUR',
        complete: this.unconverted.size === 0,
        unconverted: list(this.unconverted),
      },
      count: this.count,
    };
  }
}

export type FigureView = ReturnType<Figure['view']>;

/** Keeps only the figure of a report row, for comparison. */
export const figureOf = (r: FigureView): FigureView => ({ amounts: r.amounts, base: r.base, count: r.count });

/** Each figure's view, by key, as a report's rows are compared. */
export const views = (m: Map<string, Figure>) => Object.fromEntries([...m].map(([k, f]) => [k, f.view()]));

// ---- test data ----

export type Random = ReturnType<typeof random>;

/** mulberry32: the same data shapes for a given seed (printed, to replay a failure). */
export function random(seed: number) {
  let s = seed >>> 0;
  const next = () => {
    let t = (s = (s + 0x6d2b79f5) >>> 0);
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  return {
    next,
    int: (min: number, max: number) => min + Math.floor(next() * (max - min + 1)),
    pick: <T>(xs: readonly T[]) => xs[Math.floor(next() * xs.length)],
  };
}

/** A random amount with 0 to 9 decimals: "0", "12.5", "0.000000001", "87.123456789"... */
function randomAmount(rnd: Random): string {
  const whole = rnd.pick([0, 0, 0, 1, 2, 7, 13, 99, 250]);
  const digits = rnd.int(0, 9);
  let frac = '';
  for (let i = 0; i < digits; i++) frac += String(rnd.int(0, 9));
  return digits ? `${whole}.${frac}` : String(whole);
}

export const localDay = new Intl.DateTimeFormat('en-CA', {
  timeZone: TIME_ZONE,
  year: 'numeric',
  month: '2-digit',
  day: '2-digit',
});

export interface CrashUser {
  id: string;
  primary: string | null;
  extra: string | null;
}

/** 10,000 events: mostly EUR, some USD (converted), some GBP (no rate: reported as unconverted). */
export function usageEvents(rnd: Random, orgId: string, users: CrashUser[], start: number) {
  return Array.from({ length: EVENTS }, () => {
    const user = rnd.pick(users);
    const [itemType, itemId] = rnd.pick(ITEMS);
    const teamId = user.extra && rnd.next() < 0.3 ? user.extra : undefined;
    const r = rnd.next();
    return {
      eventId: randomUUID(),
      orgId,
      userId: user.id,
      ...(teamId ? { teamId } : {}),
      itemType,
      itemId,
      amount: randomAmount(rnd),
      currency: r < 0.7 ? 'EUR' : r < 0.95 ? 'USD' : 'GBP',
      inputTokens: rnd.int(0, 5000),
      outputTokens: rnd.int(0, 2000),
      model: rnd.pick(['m-large', 'm-small']),
      occurredAt: new Date(start + Math.floor(rnd.next() * 30 * 86_400_000)).toISOString(),
    };
  });
}

export type UsageEvent = ReturnType<typeof usageEvents>[number];

/** What every report must say, computed from what is sent. */
export function expectedReports(
  events: UsageEvent[],
  users: CrashUser[],
  parents: ReadonlyMap<string, string | null>,
) {
  const expected = {
    total: new Figure(),
    user: new Map<string, Figure>(),
    team: new Map<string, Figure>(),
    itemType: new Map<string, Figure>(),
    item: new Map<string, Figure>(),
    day: new Map<string, Figure>(),
  };
  const bump = (m: Map<string, Figure>, k: string, currency: string, nanos: bigint, base: bigint | null) => {
    let f = m.get(k);
    if (!f) m.set(k, (f = new Figure()));
    f.add(currency, nanos, base);
  };
  const pathOf = (teamId: string) => {
    const path: string[] = [];
    for (let t: string | null = teamId; t; t = parents.get(t) ?? null) path.push(t);
    return path;
  };
  const primaryOf = new Map(users.map((u) => [u.id, u.primary]));
  for (const e of events) {
    const nanos = nanosOf(e.amount);
    const base = e.currency === 'EUR' ? nanos : e.currency === 'USD' ? convert(nanos, USD_RATE) : null;
    expected.total.add(e.currency, nanos, base);
    bump(expected.user, e.userId, e.currency, nanos, base);
    const teamId = e.teamId ?? primaryOf.get(e.userId) ?? null;
    if (teamId) for (const t of pathOf(teamId)) bump(expected.team, t, e.currency, nanos, base);
    bump(expected.itemType, e.itemType, e.currency, nanos, base);
    bump(expected.item, `${e.itemType}:${e.itemId}`, e.currency, nanos, base);
    bump(expected.day, localDay.format(new Date(e.occurredAt)), e.currency, nanos, base);
  }
  return expected;
}

/** The copies to send: each event twice, shuffled. */
export function shuffledCopies(rnd: Random, events: UsageEvent[]): UsageEvent[] {
  const copies = [...events, ...events];
  for (let i = copies.length - 1; i > 0; i--) {
    const j = Math.floor(rnd.next() * (i + 1));
    [copies[i], copies[j]] = [copies[j], copies[i]];
  }
  return copies;
}

// ---- the org ----

/** Throws when an answer is not a success, with its body. */
export const ok = <T extends { status: number }>(res: T, what: string): T => {
  if (res.status >= 300)
    throw new Error(`${what} answered ${res.status}: ${JSON.stringify((res as { body?: unknown }).body)}`);
  return res;
};

/**
 * An org with nested teams and 50 users (some in two teams, some in none), and a USD rate from before `start`.
 * Answers the org, its users and each team's parent.
 */
export async function seedOrg(api: Api, suffix: string, start: number) {
  const orgId: string = ok(
    await api.post('/v1/orgs', { name: `Crash ${suffix}`, baseCurrency: 'EUR', timeZone: TIME_ZONE }),
    'create org',
  ).body.id;
  const parents = new Map<string, string | null>();
  const team = async (name: string, parent: string | null) => {
    const id: string = ok(
      await api.post(`/v1/orgs/${orgId}/teams`, { name, ...(parent ? { parentTeamId: parent } : {}) }),
      `create team ${name}`,
    ).body.id;
    parents.set(id, parent);
    return id;
  };
  const eng = await team('Engineering', null);
  const platform = await team('Platform', eng);
  const storage = await team('Storage', platform);
  const ml = await team('ML', eng);
  const sales = await team('Sales', null);
  const emea = await team('EMEA', sales);
  const research = await team('Research', null);
  const teams = [eng, platform, storage, ml, sales, emea, research];
  const users: CrashUser[] = [];
  for (let i = 0; i < USERS; i++) {
    const primary = i % 10 === 9 ? null : teams[i % teams.length];
    const extra = primary && i % 6 === 0 ? teams[(i + 3) % teams.length] : null;
    const res = ok(
      await api.post(`/v1/orgs/${orgId}/users`, {
        username: `user-${i}-${suffix}`,
        email: `user-${i}-${suffix}@crash.test`,
        ...(primary ? { primaryTeamId: primary } : {}),
        ...(extra ? { teamIds: [extra] } : {}),
      }),
      `create user ${i}`,
    );
    users.push({ id: res.body.id, primary, extra: extra === primary ? null : extra });
  }
  ok(
    await api.post(`/v1/orgs/${orgId}/exchange-rates`, {
      currency: 'USD',
      rate: USD_RATE,
      effectiveFrom: new Date(start - 86_400_000).toISOString(),
    }),
    'set USD rate',
  );
  return { orgId, users, parents };
}
