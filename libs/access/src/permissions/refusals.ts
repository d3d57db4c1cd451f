import { Inject, Injectable } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import {
  AuthScope,
  Authorizer,
  Clock,
  CommandExecutor,
  Decider,
  Permission,
  Principal,
  PurserError,
} from '@purser/core';
import { CLOCK, LOGGER, PurserLogger } from '@purser/platform';
import { AccessRefused } from '../events';
import { AccessStreams } from '../streams';

/** Nothing to fold: every refusal is recorded (the recorder bounds how often). */
export const refusalsDecider: Decider<AccessRefused['data'], Record<string, never>, AccessRefused> = {
  initialState: () => ({}),
  decide: (refusal) => [{ type: 'AccessRefused', data: refusal }],
  evolve: (s) => s,
};

/** The same refusal (principal, permission, target, status) is recorded at most once in this window. */
export const REFUSAL_WINDOW_MS = 60_000;

/**
 * Wraps the authorizer: every 403 and 404 it answers becomes an `AccessRefused` event in the caller's own org (the
 * audit trail of what its members and keys tried; never in the target org, which must not learn who probed it),
 * at most once a minute for the same refusal so that a loop cannot flood the store. Recorded off the request path.
 */
@Injectable()
export class RefusalRecordingAuthorizer implements Authorizer {
  private readonly recent = new Map<string, number>();

  constructor(
    private readonly inner: Authorizer,
    private readonly executor: CommandExecutor,
    @Inject(CLOCK) private readonly clock: Clock,
    @Inject(LOGGER) private readonly logger: PurserLogger,
  ) {}

  async authorize(principal: Principal, permission: Permission, scope: AuthScope): Promise<void> {
    try {
      await this.inner.authorize(principal, permission, scope);
    } catch (err) {
      if (err instanceof PurserError && (err.statusCode === 403 || err.statusCode === 404))
        this.record(principal, permission, scope, err.statusCode);
      throw err;
    }
  }

  private record(principal: Principal, permission: Permission, scope: AuthScope, status: 403 | 404): void {
    const orgId = principal.orgId;
    if (!orgId || principal.actor.type === 'system') return;
    const now = this.clock.now().getTime();
    const key = [
      principal.actor.type,
      principal.actor.id,
      permission,
      scope.orgId ?? '',
      scope.teamId ?? '',
      status,
    ].join('|');
    const last = this.recent.get(key);
    if (last !== undefined && now - last < REFUSAL_WINDOW_MS) return;
    this.recent.set(key, now);
    if (this.recent.size > 50_000) this.prune(now);
    const data: AccessRefused['data'] = {
      orgId,
      principal: { type: principal.actor.type, id: principal.actor.id },
      via: principal.via,
      permission,
      // Another org's id is not kept: only that the target was outside the caller's org.
      target:
        scope.orgId === undefined || scope.orgId === orgId
          ? { orgId, teamId: scope.teamId ?? null }
          : 'another org',
      status,
    };
    setImmediate(() => {
      this.executor
        .execute(
          AccessStreams.refusals(orgId),
          refusalsDecider,
          data,
          {
            actor: principal.actor,
            correlationId: randomUUID(),
            now: new Date(now).toISOString(),
          },
          { orgId },
        )
        .catch((e: unknown) => this.logger.warn({ err: String(e) }, 'could not record an access refusal'));
    });
  }

  private prune(now: number): void {
    for (const [k, at] of this.recent) if (now - at >= REFUSAL_WINDOW_MS) this.recent.delete(k);
  }
}
