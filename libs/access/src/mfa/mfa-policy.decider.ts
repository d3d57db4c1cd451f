import { Decider } from '@purser/core';
import { MfaRequirement, PolicyEvent } from '../events';

/** An org's sign-in policy (stream access-policy-<orgId>): who must have MFA. */
export interface MfaPolicyState {
  orgId: string | null;
  required: MfaRequirement;
}

export type MfaPolicyCommand = { type: 'SetMfaPolicy'; orgId: string; required: MfaRequirement };

/** Roles whose holders count as administrators under the 'admins' policy. */
export const ADMIN_ROLES: ReadonlySet<string> = new Set(['owner', 'admin']);

/**
 * Whether the policy asks this user for MFA ('admins': whoever holds owner or admin org-wide, by assignment, or the
 * instance administrator).
 */
export function mfaRequiredFor(
  required: MfaRequirement,
  orgWideRoles: readonly string[],
  instanceAdmin: boolean,
): boolean {
  if (required === 'everyone') return true;
  if (required === 'admins') return instanceAdmin || orgWideRoles.some((r) => ADMIN_ROLES.has(r));
  return false;
}

export const mfaPolicyDecider: Decider<MfaPolicyCommand, MfaPolicyState, PolicyEvent> = {
  initialState: () => ({ orgId: null, required: 'none' }),
  decide(c, s) {
    // Setting what is already set records nothing.
    if (s.required === c.required) return [];
    return [{ type: 'MfaPolicySet', data: { orgId: c.orgId, required: c.required } }];
  },
  evolve(s, e) {
    switch (e.type) {
      case 'MfaPolicySet':
        return { orgId: e.data.orgId, required: e.data.required };
    }
  },
};
