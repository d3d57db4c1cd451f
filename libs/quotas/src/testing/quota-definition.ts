import { QuotaDefinition } from '../events';

/** A quota definition for decider specs: q1 of org o1, a hard monthly cost limit of 10 USD on team t1. */
export function aQuota(over: Partial<QuotaDefinition> = {}): QuotaDefinition {
  return {
    quotaId: 'q1',
    orgId: 'o1',
    entityType: 'Team',
    entityId: 't1',
    itemType: null,
    itemId: null,
    metric: 'cost',
    currency: 'USD',
    limit: '10',
    period: 'month',
    enforcement: 'hard',
    thresholds: [50, 80],
    ...over,
  };
}
