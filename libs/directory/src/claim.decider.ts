import { ConflictError, Decider, refuse } from '@purser/core';
import { ClaimEvent, ClaimKind } from './events';

export interface ClaimState {
  holder: string | null;
  /** When the current holder acquired the value. */
  acquiredAt: string | null;
}

export type ClaimCommand =
  /** `holderIsStale`: the handler checked that the current holder no longer uses the value (a crash left it). */
  | { type: 'Acquire'; kind: ClaimKind; value: string; ownerId: string; holderIsStale: boolean }
  | { type: 'Release'; kind: ClaimKind; ownerId: string };

const LABEL: Record<ClaimKind, string> = { 'org-name': 'org name', username: 'username', email: 'email' };

export const claimDecider: Decider<
  ClaimCommand,
  ClaimState,
  ClaimEvent & { metadata?: { occurredAt: string } }
> = {
  initialState: () => ({ holder: null, acquiredAt: null }),
  decide(command, state) {
    if (command.type === 'Release') {
      return state.holder === command.ownerId
        ? [
            {
              type: 'ClaimReleased',
              data: { kind: command.kind, ownerId: command.ownerId, reason: 'released' },
            },
          ]
        : [];
    }
    if (state.holder === command.ownerId) return [];
    if (state.holder === null)
      return [{ type: 'ClaimAcquired', data: { kind: command.kind, ownerId: command.ownerId } }];
    if (!command.holderIsStale) {
      return refuse(
        new ConflictError(`${LABEL[command.kind]} "${command.value}" is already taken`, [
          { field: command.kind === 'org-name' ? 'name' : command.kind, problem: 'duplicate' },
        ]),
      );
    }
    return [
      { type: 'ClaimReleased', data: { kind: command.kind, ownerId: state.holder, reason: 'stale' } },
      { type: 'ClaimAcquired', data: { kind: command.kind, ownerId: command.ownerId } },
    ];
  },
  evolve(state, event) {
    switch (event.type) {
      case 'ClaimAcquired':
        return { holder: event.data.ownerId, acquiredAt: event.metadata?.occurredAt ?? null };
      case 'ClaimReleased':
        return state.holder === event.data.ownerId ? { holder: null, acquiredAt: null } : state;
    }
  },
};
