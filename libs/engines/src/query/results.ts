import { PurserError, UpdateResult } from '@purser/core';

/* The answers of updates, shared by the adapters (frozen: one object per answer, no allocation per update). */

export const NOT_MATCHED: UpdateResult = Object.freeze({ matched: false, upserted: false }) as UpdateResult;
export const MATCHED: UpdateResult = Object.freeze({ matched: true, upserted: false }) as UpdateResult;
export const UPSERTED: UpdateResult = Object.freeze({ matched: false, upserted: true }) as UpdateResult;

export type BulkOutcome = UpdateResult | { error: unknown };

/**
 * bulkUpdate semantics shared by the adapters: every op is attempted; when some failed (a unique index clash,
 * a type mismatch), the first error is thrown after the others were applied, with the failed op indexes in
 * its details.
 */
export function resultsOrThrow(outcomes: BulkOutcome[]): UpdateResult[] {
  const failed = outcomes.flatMap((o, index) => ('error' in o ? [{ index, error: o.error }] : []));
  if (failed.length === 0) return outcomes as UpdateResult[];
  const first = failed[0].error;
  if (first instanceof PurserError) {
    const details = failed.map((f) => ({
      field: `ops[${f.index}]`,
      problem: f.error instanceof Error ? f.error.message : String(f.error),
      index: f.index,
    }));
    const Ctor = first.constructor as new (m: string, d: typeof details) => PurserError;
    throw new Ctor(`${failed.length} of ${outcomes.length} updates failed; first: ${first.message}`, details);
  }
  throw first;
}

/**
 * Applies each op of a bulkUpdate on its own: an op refused with a PurserError (a unique clash, a type mismatch) is
 * an outcome, anything else aborts the batch.
 */
export function attemptEach<Op>(ops: Op[], apply: (op: Op) => UpdateResult): BulkOutcome[] {
  return ops.map((op): BulkOutcome => {
    try {
      return apply(op);
    } catch (e) {
      if (e instanceof PurserError) return { error: e };
      throw e;
    }
  });
}
