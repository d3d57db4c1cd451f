/**
 * Real-engine suites run only when their engine's address is configured (CI configures them all).
 * Otherwise the suite is skipped and says so in one clear line.
 */
export type EngineVar = 'KAFKA_BROKERS' | 'MONGODB_URL' | 'EVENTSTORE_URL';

const announced = new Set<string>();
const PLACEHOLDER: Record<EngineVar, string> = {
  KAFKA_BROKERS: 'skipped.invalid:9092',
  MONGODB_URL: 'mongodb://skipped.invalid:27017/skipped',
  EVENTSTORE_URL: 'esdb://skipped.invalid:2113?tls=false',
};

export function engineUrl(envVar: EngineVar, suite: string): string | undefined {
  const value = process.env[envVar]?.trim();
  if (!value && !announced.has(suite)) {
    announced.add(suite);
    process.stderr.write(
      `SKIPPED suite "${suite}": ${envVar} is not set; set it to run this suite against a real engine (.ci/run sets KAFKA_BROKERS and MONGODB_URL)\n`,
    );
  }
  return value || undefined;
}

/** describe() when the engine is configured, describe.skip() (with one printed line) when it is not. */
export function describeEngine(envVar: EngineVar, suite: string, fn: (url: string) => void): void {
  const url = engineUrl(envVar, suite);
  if (url) describe(suite, () => fn(url));
  // Skipped: the body only registers (skipped) tests, with a placeholder address that is never dialled.
  else describe.skip(`${suite} [skipped: ${envVar} not set]`, () => fn(PLACEHOLDER[envVar]));
}

/** A short unique suffix so parallel or repeated runs never share topics, databases or collections. */
export function uniqueSuffix(): string {
  return `${Date.now().toString(36)}${Math.random().toString(36).slice(2, 8)}`;
}

/** Polls a condition until it holds, or fails after the timeout. Not a sleep: returns as soon as it holds. */
export async function eventually<T>(
  probe: () => Promise<T> | T,
  check: (value: T) => boolean,
  { timeoutMs = 15000, intervalMs = 20, what = 'condition' } = {},
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: T | undefined;
  for (;;) {
    last = await probe();
    if (check(last)) return last;
    if (Date.now() > deadline) {
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}; last value: ${safe(last)}`);
    }
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}

function safe(v: unknown): string {
  try {
    return (
      JSON.stringify(v, (_k, x) => (typeof x === 'bigint' ? x.toString() : x))?.slice(0, 500) ?? String(v)
    );
  } catch {
    return String(v);
  }
}
