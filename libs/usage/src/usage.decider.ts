import { Decider, RuleViolationError, canonicalDecimal, refuse } from '@purser/core';
import type { DirectoryView, LiveOrg } from '@purser/directory';
import { UsageRecorded } from './events';
import { UsageInput } from './usage-input';

/** Record one checked usage event, as the directory stood when its batch was read. */
export interface RecordUsageCommand {
  type: 'RecordUsage';
  usage: UsageInput;
  /** The directory view of the batch (DirectoryLookup.batch), naming the usage's org and user. */
  directory: DirectoryView;
}

/**
 * Nothing: whether an eventId is already recorded is answered by the event store's appendOnce, not by a fold, so
 * the decider needs no state of its own.
 */
export type UsageState = Readonly<Record<string, never>>;

/** What UsageRecorded holds for a checked usage: stamped with its team path and its org's zone and base currency. */
export function usageRecordedData(
  u: UsageInput,
  teamId: string | null,
  teamPath: string[],
  org: Pick<LiveOrg, 'timeZone' | 'baseCurrency'>,
): UsageRecorded['data'] {
  return {
    usageId: u.eventId,
    orgId: u.orgId,
    userId: u.userId,
    teamId,
    teamPath,
    itemType: u.itemType,
    itemId: u.itemId,
    amount: canonicalDecimal(u.amount),
    currency: u.currency,
    inputTokens: u.inputTokens ?? null,
    outputTokens: u.outputTokens ?? null,
    model: u.model ?? null,
    occurredAt: u.occurredAt,
    reservationId: u.reservationId ?? null,
    attributes: u.attributes ?? {},
    timeZone: org.timeZone,
    baseCurrency: org.baseCurrency,
  };
}

const refused = (reason: string, field: string, problem: string) =>
  refuse(new RuleViolationError(reason, [{ field, problem }]));

/**
 * Which usage is recorded: one whose org lives, whose user lives in that org and, when a team is named (or the
 * user has a primary team), whose team lives and has the user as a member. The event is stamped with the team path
 * (the team first, then its ancestors up to the top-level team) and the org's time zone and base currency. Anything
 * else is refused (the reason is answered per event; the rest of the batch goes on).
 */
export const usageDecider: Decider<RecordUsageCommand, UsageState, UsageRecorded> = {
  initialState: () => ({}),
  decide({ usage: u, directory }) {
    const org = directory.org(u.orgId);
    if (!org) return refused(`unknown org ${u.orgId}`, 'orgId', 'unknown');
    const user = directory.user(u.userId);
    if (!user || user.orgId !== u.orgId)
      return refused(`unknown user ${u.userId} in org ${u.orgId}`, 'userId', 'unknown');
    const teamId = u.teamId ?? user.primaryTeamId;
    let teamPath: string[] = [];
    if (teamId) {
      if (!user.teamIds.includes(teamId))
        return refused(`user ${u.userId} is not a member of team ${teamId}`, 'teamId', 'not a member');
      const chain = directory.parentChain(u.orgId, teamId);
      if (!chain) return refused(`unknown team ${teamId} in org ${u.orgId}`, 'teamId', 'unknown');
      teamPath = [teamId, ...chain];
    }
    return [{ type: 'UsageRecorded', data: usageRecordedData(u, teamId ?? null, teamPath, org) }];
  },
  evolve: (state) => state,
};
