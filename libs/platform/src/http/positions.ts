import { Inject, Injectable } from '@nestjs/common';
import { PositionWaiter, ValidationError } from '@purser/core';
import { CONFIG } from '../tokens';
import { PurserConfig } from '../config';

/** Parses ?minPosition= and waits, bounded, until the projections a query reads have passed it (else 503). */
@Injectable()
export class ReadYourWrites {
  constructor(
    private readonly waiter: PositionWaiter,
    @Inject(CONFIG) private readonly config: PurserConfig,
  ) {}

  async waitFor(minPosition: string | undefined, projections: string[]): Promise<void> {
    if (minPosition === undefined || minPosition === '') return;
    if (!/^\d{1,20}$/.test(minPosition)) {
      throw new ValidationError(
        'minPosition must be a non-negative integer (a position from a command response)',
        [{ field: 'minPosition', problem: 'not a position' }],
      );
    }
    await this.waiter.waitFor(BigInt(minPosition), projections, this.config.minPositionTimeoutMs);
  }
}

/** Parses an If-Match header holding a stream revision ("3" or "\"3\""). */
export function parseIfMatch(value: string | undefined): bigint | undefined {
  if (value === undefined || value === '') return undefined;
  const v = value.replace(/^W\//, '').replace(/^"(.*)"$/, '$1');
  if (!/^\d{1,19}$/.test(v)) {
    throw new ValidationError('If-Match must be a revision number', [
      { field: 'If-Match', problem: 'not a revision' },
    ]);
  }
  return BigInt(v);
}

/** If-Match for entities versioned inside a shared stream (teams, quotas): their own revision as a number. */
export function parseIfMatchVersion(value: string | undefined): number | undefined {
  const v = parseIfMatch(value);
  return v === undefined ? undefined : Number(v);
}
