import { randomUUID } from 'node:crypto';
import { DomainEvent, EventMetadata } from '@purser/core';
import { Random } from './random';

/**
 * Usage-shaped events for the event-store benches. The usage context owns the real event; this is its shape as
 * the benches need it: small, with an exact decimal amount, and full metadata.
 */
export const USAGE_RECORDED = 'UsageRecorded';

export interface UsageRecordedData {
  orgId: string;
  userId: string;
  teamId: string;
  itemType: 'Agent';
  itemId: string;
  /** Decimal string, 6 decimals here (micro-units). */
  amount: string;
  currency: string;
  inputTokens: number;
  outputTokens: number;
  model: string;
}

export type UsageRecorded = DomainEvent<typeof USAGE_RECORDED, UsageRecordedData>;

/** An event ready to append, typed (EventToAppend's conditional type widens poorly in generic code). */
export interface UsageToAppend {
  type: typeof USAGE_RECORDED;
  data: UsageRecordedData;
  metadata: EventMetadata;
}

export const MODELS = ['claude-sonnet-4', 'claude-haiku-4', 'gpt-4o', 'gpt-4o-mini'] as const;

export interface UsageFixtureOptions {
  users: number;
  teams: number;
  agents?: number;
  /** How many events the fixture will produce: occurredAt is spread evenly over `spanDays`. */
  total: number;
  spanDays?: number;
  startAt?: string;
  seed?: number;
}

/** Formats integer micro-units as an exact decimal string: 1234 -> "0.001234". */
export function formatMicros(micros: number): string {
  const whole = Math.floor(micros / 1_000_000);
  return `${whole}.${String(micros % 1_000_000).padStart(6, '0')}`;
}

/** Parses a decimal string with at most 6 decimals into integer micro-units, exactly (no float arithmetic). */
export function parseMicros(amount: string): number {
  const m = /^(\d+)(?:\.(\d{1,6}))?$/.exec(amount);
  if (!m) throw new RangeError(`not a decimal amount with at most 6 decimals: ${amount}`);
  return Number(m[1]) * 1_000_000 + Number((m[2] ?? '').padEnd(6, '0'));
}

/**
 * A deterministic stream of UsageRecorded events for one org: users belong to teams, costs are exact
 * micro-units, and time moves forward with the position (as it does in production).
 */
export class UsageFixture {
  readonly orgId = randomUUID();
  readonly users: ReadonlyArray<{ userId: string; teamId: string }>;
  private readonly agents: string[];
  private readonly apiKeyId = `key-${randomUUID()}`;
  private readonly rng: Random;
  private readonly startMs: number;
  private readonly stepMs: number;
  private produced = 0;
  /** Totals of everything produced so far, to verify read models against. */
  readonly totals = { events: 0, amountMicros: 0, inputTokens: 0, outputTokens: 0 };

  constructor(options: UsageFixtureOptions) {
    this.rng = new Random(options.seed ?? 42);
    const teams = Array.from({ length: options.teams }, () => randomUUID());
    this.users = Array.from({ length: options.users }, (_, i) => ({
      userId: randomUUID(),
      teamId: teams[i % teams.length],
    }));
    this.agents = Array.from({ length: options.agents ?? 50 }, () => `agent-${randomUUID()}`);
    this.startMs = Date.parse(options.startAt ?? '2026-01-01T00:00:00.000Z');
    this.stepMs = ((options.spanDays ?? 30) * 86_400_000) / Math.max(1, options.total);
  }

  next(): UsageToAppend {
    const user = this.rng.pick(this.users);
    const micros = this.rng.int(1, 50_000);
    const inputTokens = this.rng.int(10, 8_000);
    const outputTokens = this.rng.int(1, 2_000);
    const occurredAt = new Date(this.startMs + Math.floor(this.produced * this.stepMs)).toISOString();
    this.produced++;
    this.totals.events++;
    this.totals.amountMicros += micros;
    this.totals.inputTokens += inputTokens;
    this.totals.outputTokens += outputTokens;
    return {
      type: USAGE_RECORDED,
      data: {
        orgId: this.orgId,
        userId: user.userId,
        teamId: user.teamId,
        itemType: 'Agent',
        itemId: this.rng.pick(this.agents),
        amount: formatMicros(micros),
        currency: 'USD',
        inputTokens,
        outputTokens,
        model: this.rng.pick(MODELS),
      },
      metadata: {
        eventId: randomUUID(),
        correlationId: randomUUID(),
        causationId: null,
        actor: { type: 'apiKey', id: this.apiKeyId, orgId: this.orgId },
        occurredAt,
        schemaVersion: 1,
        orgId: this.orgId,
      },
    };
  }

  take(n: number): UsageToAppend[] {
    const out = new Array<UsageToAppend>(n);
    for (let i = 0; i < n; i++) out[i] = this.next();
    return out;
  }
}
