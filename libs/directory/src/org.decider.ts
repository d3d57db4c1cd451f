import { ConflictError, Decider, ValidationError, orgNotFound, refuse } from '@purser/core';
import { ContactInfo, OrgEvent } from './events';

export interface OrgState {
  exists: boolean;
  deleted: boolean;
  orgId: string;
  name: string;
  address: string | null;
  contactInfo: ContactInfo;
  baseCurrency: string;
  timeZone: string;
  createdAt: string | null;
  updatedAt: string | null;
}

export type OrgCommand =
  | {
      type: 'CreateOrg';
      orgId: string;
      name: string;
      address: string | null;
      contactInfo: ContactInfo;
      baseCurrency: string;
      timeZone: string;
    }
  | {
      type: 'UpdateOrg';
      orgId: string;
      changes: Partial<{
        name: string;
        address: string | null;
        contactInfo: ContactInfo;
        baseCurrency: string;
        timeZone: string;
      }>;
    }
  /** The handler counts what still lives in the org; the rule is decided here. */
  | { type: 'DeleteOrg'; orgId: string; liveTeams: number; liveUsers: number };

type Stamped<E> = E & { metadata?: { occurredAt: string } };

export const orgDecider: Decider<OrgCommand, OrgState, Stamped<OrgEvent>> = {
  initialState: () => ({
    exists: false,
    deleted: false,
    orgId: '',
    name: '',
    address: null,
    contactInfo: {},
    baseCurrency: 'USD',
    timeZone: 'UTC',
    createdAt: null,
    updatedAt: null,
  }),

  decide(command, state) {
    switch (command.type) {
      case 'CreateOrg': {
        if (state.exists)
          return refuse(
            new ConflictError(`org ${command.orgId} already exists`, [{ field: 'orgId', problem: 'exists' }]),
          );
        const { type: _t, ...data } = command;
        return [{ type: 'OrgCreated', data }];
      }
      case 'UpdateOrg': {
        if (!isLive(state)) return refuse(orgNotFound(command.orgId));
        const changes = Object.fromEntries(
          Object.entries(command.changes).filter(
            ([k, v]) =>
              v !== undefined &&
              JSON.stringify(v) !== JSON.stringify((state as unknown as Record<string, unknown>)[k]),
          ),
        );
        if (Object.keys(command.changes).length === 0) {
          return refuse(
            new ValidationError('nothing to update', [{ problem: 'the body names no field to change' }]),
          );
        }
        if (Object.keys(changes).length === 0) return [];
        return [{ type: 'OrgUpdated', data: { orgId: command.orgId, changes } }];
      }
      case 'DeleteOrg': {
        if (!isLive(state)) return refuse(orgNotFound(command.orgId));
        if (command.liveTeams > 0 || command.liveUsers > 0) {
          return refuse(
            new ConflictError(
              `org ${command.orgId} still has ${command.liveTeams} team(s) and ${command.liveUsers} user(s); delete or move them first`,
              [
                ...(command.liveTeams
                  ? [{ field: 'teams', problem: 'not empty', count: command.liveTeams }]
                  : []),
                ...(command.liveUsers
                  ? [{ field: 'users', problem: 'not empty', count: command.liveUsers }]
                  : []),
              ],
            ),
          );
        }
        return [{ type: 'OrgDeleted', data: { orgId: command.orgId } }];
      }
    }
  },

  evolve(state, event) {
    const at = event.metadata?.occurredAt ?? state.updatedAt;
    switch (event.type) {
      case 'OrgCreated':
        return { ...state, ...event.data, exists: true, deleted: false, createdAt: at, updatedAt: at };
      case 'OrgUpdated':
        return { ...state, ...event.data.changes, updatedAt: at };
      case 'OrgDeleted':
        return { ...state, deleted: true, updatedAt: at };
      default:
        return state;
    }
  },
};

const isLive = (state: { exists: boolean; deleted: boolean }) => state.exists && !state.deleted;

/** The 404 for an org that does not exist or was deleted. */
export { orgNotFound };

/** For handlers: raises the 404 unless the org lives. */
export function assertLive(state: { exists: boolean; deleted: boolean }, orgId: string): void {
  if (!isLive(state)) throw orgNotFound(orgId);
}
