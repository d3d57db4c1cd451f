import { ConflictError, Decider, refuse } from '@purser/core';
import { InstanceEvent } from '../events';

/** The instance: whether its one-time setup has been done, and who its first administrator is. */
export interface InstanceState {
  startedAt: string | null;
  completed: { orgId: string; userId: string } | null;
}

export type InstanceCommand =
  | { type: 'StartSetup'; now: string; staleAfterMs: number }
  | { type: 'CompleteSetup'; orgId: string; userId: string }
  | { type: 'AbortSetup'; reason: string };

export const setupDone = () =>
  new ConflictError('this instance is already set up; sign in instead', [
    { field: 'token', problem: 'spent' },
  ]);

/**
 * Setup runs once. StartSetup claims it (a concurrent second call is refused); a claim whose server died before
 * completing it may be taken over after `staleAfterMs`, so a crash mid-setup never leaves the instance unusable.
 */
export const instanceDecider: Decider<InstanceCommand, InstanceState, InstanceEvent> = {
  initialState: () => ({ startedAt: null, completed: null }),
  decide(c, s) {
    if (s.completed) return refuse(setupDone());
    switch (c.type) {
      case 'StartSetup':
        if (s.startedAt && Date.parse(c.now) - Date.parse(s.startedAt) < c.staleAfterMs)
          return refuse(
            new ConflictError('setup is already running', [{ field: 'token', problem: 'in use' }]),
          );
        return [{ type: 'SetupStarted', data: { startedAt: c.now } }];
      case 'CompleteSetup':
        return [{ type: 'SetupCompleted', data: { orgId: c.orgId, userId: c.userId } }];
      case 'AbortSetup':
        return s.startedAt ? [{ type: 'SetupAborted', data: { reason: c.reason } }] : [];
    }
  },
  evolve(s, e) {
    switch (e.type) {
      case 'SetupStarted':
        return { ...s, startedAt: e.data.startedAt };
      case 'SetupCompleted':
        return { ...s, completed: { orgId: e.data.orgId, userId: e.data.userId } };
      case 'SetupAborted':
        return { ...s, startedAt: null };
    }
  },
};
