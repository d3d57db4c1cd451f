import { ConflictError, NotFoundError, RuleViolationError, fold, isRefusal } from '@purser/core';
import { given } from '@purser/testkit';
import { QuotaDefinition } from './events';
import { aQuota } from './testing/quota-definition';
import { quotaBookDecider } from './book.decider';

const defined = (over: Partial<QuotaDefinition> = {}) => ({
  type: 'QuotaDefined' as const,
  data: aQuota(over),
});
const removed = { type: 'QuotaRemoved' as const, data: { quotaId: 'q1', orgId: 'o1' } };

describe('quota book decider', () => {
  it('given no quota, when defining one, then QuotaDefined', () => {
    given(quotaBookDecider)
      .when({ type: 'DefineQuota', definition: aQuota() })
      .then([{ type: 'QuotaDefined', data: aQuota() }]);
  });

  it('given a quota, when defining another with the same scope, then it is refused as a returned decision (409)', () => {
    const state = fold(quotaBookDecider, [defined()]);
    const decision = quotaBookDecider.decide(
      { type: 'DefineQuota', definition: aQuota({ quotaId: 'q2' }) },
      state,
    );
    expect(isRefusal(decision) && decision.refused).toBeInstanceOf(ConflictError);
    expect(isRefusal(decision) && decision.refused.message).toMatch(/quota q1 already limits cost per month/);
  });

  it('given a quota, when defining one with its id, then 409 exists', () => {
    given(quotaBookDecider, [defined()])
      .when({ type: 'DefineQuota', definition: aQuota({ entityId: 't2' }) })
      .thenRefuses(ConflictError, /quota q1 already exists/);
  });

  it('given a quota at revision 0, when changing it at revision 1, then 409 stale with both revisions', () => {
    const err = given(quotaBookDecider, [defined()])
      .when({ type: 'ChangeQuota', quotaId: 'q1', changes: { limit: '20' }, expectedVersion: 1 })
      .thenRefuses(ConflictError, /at revision 0, expected 1/);
    expect(err.details).toEqual([{ field: 'revision', problem: 'stale', expected: '1', actual: '0' }]);
  });

  it('given a quota, when changing its metric, then 422', () => {
    given(quotaBookDecider, [defined()])
      .when({ type: 'ChangeQuota', quotaId: 'q1', changes: { metric: 'tokens' } as never })
      .thenRefuses(RuleViolationError, /metric cannot change/);
  });

  it('given a monthly and a daily quota of one scope, when the daily one becomes monthly, then 409', () => {
    given(quotaBookDecider, [defined(), defined({ quotaId: 'q2', period: 'day' })])
      .when({ type: 'ChangeQuota', quotaId: 'q2', changes: { period: 'month' } })
      .thenRefuses(ConflictError, /quota q1 already covers that period/);
  });

  it('given a quota, when changing it to what it is, then nothing', () => {
    given(quotaBookDecider, [defined()])
      .when({ type: 'ChangeQuota', quotaId: 'q1', changes: { limit: '10', enforcement: 'hard' } })
      .thenNothing();
  });

  it('given a removed quota, when changing or removing it, then 404', () => {
    given(quotaBookDecider, [defined(), removed])
      .when({ type: 'ChangeQuota', quotaId: 'q1', changes: { limit: '20' } })
      .thenRefuses(NotFoundError, /quota q1 not found/);
    given(quotaBookDecider, [defined(), removed])
      .when({ type: 'RemoveQuota', quotaId: 'q1' })
      .thenRefuses(NotFoundError, /quota q1 not found/);
  });

  it('given a quota at revision 0, when removing it at revision 0, then QuotaRemoved', () => {
    given(quotaBookDecider, [defined()])
      .when({ type: 'RemoveQuota', quotaId: 'q1', expectedVersion: 0 })
      .then([removed]);
  });
});
