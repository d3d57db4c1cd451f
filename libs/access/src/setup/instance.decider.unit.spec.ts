import { ConflictError } from '@purser/core';
import { given } from '@purser/testkit';
import { InstanceEvent } from '../events';
import { instanceDecider } from './instance.decider';

const started: InstanceEvent = { type: 'SetupStarted', data: { startedAt: '2026-12-06T12:00:00.000Z' } };
const start = (now: string) => ({ type: 'StartSetup', now, staleAfterMs: 60_000 }) as const;

describe('instance decider: setup runs once', () => {
  it('given a fresh instance, when setup starts, then SetupStarted', () => {
    given(instanceDecider, [])
      .when(start('2026-12-06T12:00:00.000Z'))
      .then([{ type: 'SetupStarted' }]);
  });

  it('given a running setup, when a second starts, then refused; once it is stale (its server died), taken over', () => {
    given(instanceDecider, [started])
      .when(start('2026-12-06T12:00:30.000Z'))
      .thenRefuses(ConflictError, /already running/);
    given(instanceDecider, [started])
      .when(start('2026-12-06T12:01:01.000Z'))
      .then([{ type: 'SetupStarted' }]);
  });

  it('given an aborted setup, when started again, then it may run at once', () => {
    const aborted: InstanceEvent = { type: 'SetupAborted', data: { reason: 'owner refused' } };
    given(instanceDecider, [started, aborted])
      .when(start('2026-12-06T12:00:01.000Z'))
      .then([{ type: 'SetupStarted' }]);
  });

  it('given a completed setup, when anything is asked, then refused: the token is spent', () => {
    const done: InstanceEvent = { type: 'SetupCompleted', data: { orgId: 'o1', userId: 'u1' } };
    given(instanceDecider, [started, done])
      .when(start('2026-12-07T00:00:00.000Z'))
      .thenRefuses(ConflictError, /already set up/);
    given(instanceDecider, [started, done])
      .when({ type: 'CompleteSetup', orgId: 'o2', userId: 'u2' })
      .thenRefuses(ConflictError);
  });
});
