import { Injectable, PipeTransform } from '@nestjs/common';
import { createValidationPipe } from '@purser/platform';
import { CheckInput } from './check';
import { ID, ITEM_ID, ITEM_TYPES, LIMIT, QuotaCheckDto } from './dto';

const CHECK_FIELDS = new Set(['userId', 'teamId', 'itemType', 'itemId', 'estimate']);
const ESTIMATE_FIELDS = new Set(['amount', 'currency', 'tokens']);
const CURRENCY = /^[A-Z]{3}$/;
const MAX_TOKENS = 1_000_000_000_000;

const isPlainObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);
const onlyKnown = (o: Record<string, unknown>, known: Set<string>) =>
  Object.keys(o).every((k) => known.has(k));
const optionalMatch = (v: unknown, re: RegExp) => v === undefined || (typeof v === 'string' && re.test(v));

/**
 * A quota check as QuotaCheckDto declares it, recognised without class-validator (a hot endpoint). Accepts only input
 * that QuotaCheckDto accepts too (see the unit spec); anything else is handed to the same ValidationPipe as every
 * other body, so bad input gets exactly the usual 400 (`invalid request: <fields>` naming each field at fault).
 */
export function fastCheckInput(body: unknown): CheckInput | null {
  if (!isPlainObject(body) || !onlyKnown(body, CHECK_FIELDS)) return null;
  const { userId, teamId, itemType, itemId, estimate } = body;
  if (typeof userId !== 'string' || !ID.test(userId)) return null;
  if (!optionalMatch(teamId, ID)) return null;
  if (typeof itemType !== 'string' || !ITEM_TYPES.includes(itemType)) return null;
  if (typeof itemId !== 'string' || !ITEM_ID.test(itemId)) return null;
  if (!isPlainObject(estimate) || !onlyKnown(estimate, ESTIMATE_FIELDS)) return null;
  const { amount, currency, tokens } = estimate;
  if (!optionalMatch(amount, LIMIT) || !optionalMatch(currency, CURRENCY)) return null;
  if (
    tokens !== undefined &&
    (typeof tokens !== 'number' || !Number.isInteger(tokens) || tokens < 0 || tokens > MAX_TOKENS)
  )
    return null;
  return {
    userId,
    ...(teamId !== undefined ? { teamId: teamId as string } : {}),
    itemType,
    itemId,
    estimate: {
      ...(amount !== undefined ? { amount: amount as string } : {}),
      ...(currency !== undefined ? { currency: currency as string } : {}),
      ...(tokens !== undefined ? { tokens } : {}),
    },
  };
}

/** The check body: the fast path above, else class-validator with the app's global options. */
@Injectable()
export class CheckInputPipe implements PipeTransform<unknown, Promise<CheckInput>> {
  private readonly fallback = createValidationPipe();

  async transform(body: unknown): Promise<CheckInput> {
    return (
      fastCheckInput(body) ??
      ((await this.fallback.transform(body, { type: 'body', metatype: QuotaCheckDto })) as CheckInput)
    );
  }
}
