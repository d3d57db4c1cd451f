import { given } from '@purser/testkit';
import { PolicyEvent } from '../events';
import { mfaPolicyDecider, mfaRequiredFor } from './mfa-policy.decider';

describe('MFA policy decider', () => {
  it("given no policy, when reading it, then 'none'", () => {
    expect(given(mfaPolicyDecider).state.required).toBe('none');
  });

  it("given no policy, when requiring MFA of admins, then MfaPolicySet 'admins'", () => {
    given(mfaPolicyDecider)
      .when({ type: 'SetMfaPolicy', orgId: 'o1', required: 'admins' })
      .then([{ type: 'MfaPolicySet', data: { orgId: 'o1', required: 'admins' } }]);
  });

  it('given a policy, when setting the same one, then nothing; when another, then it replaces it', () => {
    const past: PolicyEvent[] = [{ type: 'MfaPolicySet', data: { orgId: 'o1', required: 'everyone' } }];
    given(mfaPolicyDecider, past)
      .when({ type: 'SetMfaPolicy', orgId: 'o1', required: 'everyone' })
      .thenNothing();
    given(mfaPolicyDecider, past)
      .when({ type: 'SetMfaPolicy', orgId: 'o1', required: 'none' })
      .then([{ type: 'MfaPolicySet', data: { orgId: 'o1', required: 'none' } }]);
  });

  it("given each policy, when asking whom it requires MFA of, then 'admins' means owners, admins and the instance administrator", () => {
    const member = ['member'];
    const admin = ['admin'];
    const ownerRole = ['owner', 'auditor'];
    const viewer = ['viewer'];
    expect([member, admin, ownerRole].map((u) => mfaRequiredFor('none', u, false))).toEqual([
      false,
      false,
      false,
    ]);
    expect(mfaRequiredFor('none', member, true)).toBe(false);
    expect([member, viewer, admin, ownerRole].map((u) => mfaRequiredFor('admins', u, false))).toEqual([
      false,
      false,
      true,
      true,
    ]);
    expect(mfaRequiredFor('admins', member, true)).toBe(true);
    expect([member, viewer, admin].map((u) => mfaRequiredFor('everyone', u, false))).toEqual([
      true,
      true,
      true,
    ]);
  });
});
