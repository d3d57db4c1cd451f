/** What every bench suite implements. Register a new suite with one line in bench/suites/index.ts. */

export interface SuiteContext {
  /** The --scale factor (1 = full size). */
  readonly scale: number;
  /** A fresh temporary directory for this suite; removed after it ran. */
  readonly dir: string;
  /** A full-scale count multiplied by --scale, at least `min` (default 1). */
  count(fullScale: number, min?: number): number;
  /** A progress line on stderr (stdout carries only the JSON report). */
  log(message: string): void;
}

/** One target: what was required, what was measured, and whether it was met. */
export interface TargetCheck {
  target: string;
  actual: number | boolean;
  pass: boolean;
}

export interface SuiteOutcome {
  /** Measured figures: rates, latencies, counts and the baselines measured in the same run. */
  figures: Record<string, unknown>;
  /** The suite passes when every target does. */
  targets: Record<string, TargetCheck>;
}

export interface Suite {
  readonly name: string;
  readonly description: string;
  run(ctx: SuiteContext): Promise<SuiteOutcome>;
}

export function atLeast(actual: number, min: number): TargetCheck {
  return { target: `>= ${min}`, actual, pass: actual >= min };
}

export function equals(actual: number, expected: number): TargetCheck {
  return { target: `= ${expected}`, actual, pass: actual === expected };
}
