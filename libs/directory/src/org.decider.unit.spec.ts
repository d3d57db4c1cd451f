import { ConflictError, NotFoundError } from '@purser/core';
import { given } from '@purser/testkit';
import { OrgEvent } from './events';
import { orgDecider } from './org.decider';
import { claimDecider } from './claim.decider';

const created: OrgEvent = {
  type: 'OrgCreated',
  data: {
    orgId: 'o1',
    name: 'Acme',
    address: null,
    contactInfo: {},
    baseCurrency: 'EUR',
    timeZone: 'Europe/Paris',
  },
};

describe('org decider', () => {
  it('given nothing, when creating an org, then OrgCreated with currency and zone', () => {
    given(orgDecider)
      .when({
        type: 'CreateOrg',
        orgId: 'o1',
        name: 'Acme',
        address: null,
        contactInfo: {},
        baseCurrency: 'EUR',
        timeZone: 'Europe/Paris',
      })
      .then([created]);
  });

  it('given an org, when updating only changed fields, then OrgUpdated carries just those', () => {
    given(orgDecider, [created])
      .when({ type: 'UpdateOrg', orgId: 'o1', changes: { name: 'Acme', timeZone: 'UTC' } })
      .then([{ type: 'OrgUpdated', data: { orgId: 'o1', changes: { timeZone: 'UTC' } } }]);
  });

  it('given an org with teams or users, when deleting it, then 409 saying what is in the way', () => {
    given(orgDecider, [created])
      .when({ type: 'DeleteOrg', orgId: 'o1', liveTeams: 2, liveUsers: 5 })
      .thenRefuses(ConflictError, /2 team\(s\) and 5 user\(s\)/);
  });

  it('given a deleted org, when updating it, then 404', () => {
    given(orgDecider, [created, { type: 'OrgDeleted', data: { orgId: 'o1' } }])
      .when({ type: 'UpdateOrg', orgId: 'o1', changes: { name: 'X' } })
      .thenRefuses(NotFoundError);
  });
});

describe('claim decider (unique names)', () => {
  it('given a free value, when acquiring, then ClaimAcquired', () => {
    given(claimDecider)
      .when({ type: 'Acquire', kind: 'username', value: 'ada', ownerId: 'u1', holderIsStale: false })
      .then([{ type: 'ClaimAcquired', data: { kind: 'username', ownerId: 'u1' } }]);
  });

  it('given a value held by another owner, when acquiring, then 409 "already taken"', () => {
    given(claimDecider, [{ type: 'ClaimAcquired', data: { kind: 'email', ownerId: 'u1' } }])
      .when({ type: 'Acquire', kind: 'email', value: 'ada@acme.test', ownerId: 'u2', holderIsStale: false })
      .thenRefuses(ConflictError, /email "ada@acme.test" is already taken/);
  });

  it('given a value held by an owner that never used it, when acquiring as stale, then it is released and taken over', () => {
    given(claimDecider, [{ type: 'ClaimAcquired', data: { kind: 'email', ownerId: 'u1' } }])
      .when({ type: 'Acquire', kind: 'email', value: 'x@y.z', ownerId: 'u2', holderIsStale: true })
      .then([
        { type: 'ClaimReleased', data: { kind: 'email', ownerId: 'u1', reason: 'stale' } },
        { type: 'ClaimAcquired' },
      ]);
  });

  it('given a released value, when another owner acquires it, then it is theirs', () => {
    given(claimDecider, [
      { type: 'ClaimAcquired', data: { kind: 'org-name', ownerId: 'o1' } },
      { type: 'ClaimReleased', data: { kind: 'org-name', ownerId: 'o1', reason: 'released' } },
    ])
      .when({ type: 'Acquire', kind: 'org-name', value: 'Acme', ownerId: 'o2', holderIsStale: false })
      .then([{ type: 'ClaimAcquired' }]);
  });
});
