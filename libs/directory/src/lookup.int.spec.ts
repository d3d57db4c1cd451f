import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CommandExecutor, DomainEvent, EventRegistry, SYSTEM_ACTOR } from '@purser/core';
import { SqliteEventStore } from '@purser/engines';
import { world } from '@purser/testkit';
import { DIRECTORY_EVENT_TYPES } from './events';
import { CachedDirectoryLookup } from './lookup';

/** DirectoryLookup over the command executor's state cache, on a SQLite event store that another process also writes. */
describe('directory lookup (SQLite event store)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'purser-lookup-'));
  let store: SqliteEventStore;
  let executor: CommandExecutor;
  let lookup: CachedDirectoryLookup;

  beforeEach(() => {
    store = new SqliteEventStore(join(dir, `${Date.now()}-${Math.random()}.sqlite`));
    executor = new CommandExecutor(store, new EventRegistry().registerAll(DIRECTORY_EVENT_TYPES));
    lookup = new CachedDirectoryLookup(executor, store);
  });
  afterEach(() => store.close());
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  /** Appends events as another process would: straight to the store, behind the lookup's cache. */
  const append = async (streamId: string, ...events: DomainEvent[]) => {
    const ctx = { actor: SYSTEM_ACTOR, correlationId: 'seed', now: '2026-01-01T00:00:00.000Z' };
    await store.append(streamId, executor.toAppend(events, ctx, null), 'any');
  };
  const seed = async (...streams: Array<{ streamId: string; events: DomainEvent[] }>) => {
    for (const s of streams) await append(s.streamId, ...s.events);
  };

  /** o1: Engineering > Platform > Storage, and Sales; u1 in Platform (primary) and Sales; u2 in no team. */
  const givenAcme = () =>
    seed(
      world.org('o1', { name: 'Acme', baseCurrency: 'EUR', timeZone: 'Europe/Paris' }),
      world.teams('o1', [
        { teamId: 'eng', name: 'Engineering' },
        { teamId: 'platform', name: 'Platform', parentTeamId: 'eng' },
        { teamId: 'storage', name: 'Storage', parentTeamId: 'platform' },
        { teamId: 'sales', name: 'Sales' },
      ]),
      world.user('o1', 'u1', ['platform', 'sales']),
      world.user('o1', 'u2'),
    );

  it('given an org, when looked up, then its live view; an unknown or deleted org is null', async () => {
    await givenAcme();
    await seed(world.org('o2'));
    await append('org-o2', { type: 'OrgDeleted', data: { orgId: 'o2' } });

    expect(await lookup.org('o1')).toEqual({
      orgId: 'o1',
      name: 'Acme',
      baseCurrency: 'EUR',
      timeZone: 'Europe/Paris',
    });
    expect(await lookup.org('o2')).toBeNull();
    expect(await lookup.org('nope')).toBeNull();
  });

  it('given users, when looked up, then their org, status and teams; a deactivated user is live, a deleted one null', async () => {
    await givenAcme();

    expect(await lookup.user('u1')).toEqual({
      userId: 'u1',
      orgId: 'o1',
      status: 'active',
      primaryTeamId: 'platform',
      teamIds: ['platform', 'sales'],
      username: 'u1',
      email: 'u1@example.test',
      displayName: null,
      roleId: null,
    });
    expect(await lookup.user('u2')).toMatchObject({ primaryTeamId: null, teamIds: [] });

    await append('user-u1', { type: 'UserDeactivated', data: { orgId: 'o1', userId: 'u1', reason: null } });
    await append('user-u2', { type: 'UserDeleted', data: { orgId: 'o1', userId: 'u2' } });
    expect(await lookup.user('u1')).toMatchObject({ status: 'inactive' });
    expect(await lookup.user('u2')).toBeNull();
    expect(await lookup.user('nobody')).toBeNull();
  });

  it('given a team tree, when a team is looked up, then its view, its path from the top and its chain of ancestors', async () => {
    await givenAcme();

    expect(await lookup.team('o1', 'storage')).toEqual({
      orgId: 'o1',
      teamId: 'storage',
      name: 'Storage',
      parentTeamId: 'platform',
    });
    expect(await lookup.teamPath('o1', 'storage')).toEqual(['eng', 'platform', 'storage']);
    expect(await lookup.parentChain('o1', 'storage')).toEqual(['platform', 'eng']);
    expect(await lookup.teamPath('o1', 'sales')).toEqual(['sales']);
    expect(await lookup.parentChain('o1', 'sales')).toEqual([]);
    // A team of another org is not found under this one.
    expect(await lookup.team('o2', 'storage')).toBeNull();
  });

  it('given a deleted team and a moved one, when looked up, then the deleted one is null everywhere and the moved one has its new path', async () => {
    await givenAcme();
    await append(
      'teams-o1',
      { type: 'TeamDeleted', data: { orgId: 'o1', teamId: 'sales' } },
      {
        type: 'TeamMoved',
        data: { orgId: 'o1', teamId: 'storage', fromParentTeamId: 'platform', toParentTeamId: 'eng' },
      },
    );

    expect(await lookup.team('o1', 'sales')).toBeNull();
    expect(await lookup.teamPath('o1', 'sales')).toBeNull();
    expect(await lookup.parentChain('o1', 'sales')).toBeNull();
    expect(await lookup.teamPath('o1', 'storage')).toEqual(['eng', 'storage']);
    expect(await lookup.team('o1', 'nope')).toBeNull();
  });

  it('given a team moved and a user who left a team since, when read as of before, then the old path and teams; as of now, the new', async () => {
    const at = (now: string) => ({ actor: SYSTEM_ACTOR, correlationId: 'later', now });
    await givenAcme();
    const later = '2026-06-01T00:00:00.000Z';
    const moved = {
      type: 'TeamMoved',
      data: { orgId: 'o1', teamId: 'storage', fromParentTeamId: 'platform', toParentTeamId: 'sales' },
    };
    await store.append('teams-o1', executor.toAppend([moved], at(later), 'o1'), 'any');
    const left = { type: 'UserLeftTeam', data: { orgId: 'o1', userId: 'u1', teamId: 'sales' } };
    await store.append('user-u1', executor.toAppend([left], at(later), 'o1'), 'any');

    const before = await lookup.asOf({ orgIds: ['o1'], userIds: ['u1'] }, '2026-03-01T00:00:00.000Z');
    expect(before.teamPath('o1', 'storage')).toEqual(['eng', 'platform', 'storage']);
    expect(before.user('u1')?.teamIds).toEqual(['platform', 'sales']);
    const now = await lookup.asOf({ orgIds: ['o1'], userIds: ['u1'] }, '2026-12-01T00:00:00.000Z');
    expect(now.teamPath('o1', 'storage')).toEqual(['sales', 'storage']);
    expect(now.user('u1')?.teamIds).toEqual(['platform']);
    const never = await lookup.asOf({ orgIds: ['o1'], userIds: ['u1'] }, '2025-01-01T00:00:00.000Z');
    expect(never.org('o1')).toBeNull();
    expect(never.user('u1')).toBeNull();
  });

  it("given a cached org, when another process appends to it, then 'current' sees the change", async () => {
    await givenAcme();
    expect((await lookup.org('o1'))?.name).toBe('Acme');

    await append('org-o1', { type: 'OrgUpdated', data: { orgId: 'o1', changes: { name: 'Acme 2' } } });
    await append('teams-o1', { type: 'TeamRenamed', data: { orgId: 'o1', teamId: 'eng', name: 'R&D' } });

    expect((await lookup.org('o1', 'current'))?.name).toBe('Acme 2');
    expect((await lookup.team('o1', 'eng'))?.name).toBe('R&D');
  });

  it("given a caught-up cache, when another process appends, then 'recent' answers as of the last catch-up (a state read since the first catch-up is trusted) without reading, and the next catch-up brings the change", async () => {
    await givenAcme();
    await executor.catchUp();
    expect((await lookup.org('o1', 'recent'))?.name).toBe('Acme');
    await append('org-o1', { type: 'OrgUpdated', data: { orgId: 'o1', changes: { name: 'Acme 2' } } });
    const reads = jest.spyOn(store, 'readStream');

    expect((await lookup.org('o1', 'recent'))?.name).toBe('Acme');
    expect(reads).not.toHaveBeenCalled();
    await executor.catchUp();
    expect((await lookup.org('o1', 'recent'))?.name).toBe('Acme 2');
    expect(reads).not.toHaveBeenCalled();
  });

  it("given no catch-up yet, when asked 'recent', then it reads the stream like 'current'", async () => {
    await givenAcme();
    await lookup.org('o1', 'recent');
    await append('org-o1', { type: 'OrgUpdated', data: { orgId: 'o1', changes: { name: 'Acme 2' } } });

    expect((await lookup.org('o1', 'recent'))?.name).toBe('Acme 2');
  });

  it('given a batch of orgs and users, when read at once, then the view answers for each, null for the deleted and unknown, and refuses what was not named', async () => {
    await givenAcme();
    await seed(world.user('o1', 'u3', ['storage']));
    await append('user-u3', { type: 'UserDeleted', data: { orgId: 'o1', userId: 'u3' } });

    const view = await lookup.batch({ orgIds: ['o1', 'o1', 'ghost'], userIds: ['u1', 'u3', 'nobody'] });

    expect(view.org('o1')?.name).toBe('Acme');
    expect(view.org('ghost')).toBeNull();
    expect(view.user('u1')?.teamIds).toEqual(['platform', 'sales']);
    expect(view.user('u3')).toBeNull();
    expect(view.user('nobody')).toBeNull();
    expect(view.team('o1', 'platform')?.parentTeamId).toBe('eng');
    expect(view.teamPath('o1', 'storage')).toEqual(['eng', 'platform', 'storage']);
    expect(view.parentChain('o1', 'storage')).toEqual(['platform', 'eng']);
    expect(() => view.user('u2')).toThrow('user u2 was not named in the directory batch');
    expect(() => view.org('o9')).toThrow('org o9 was not named in the directory batch');
  });

  it("given cached states, when another process appends, then a 'current' batch sees it with one revisions query and reads only the streams that moved", async () => {
    await givenAcme();
    await lookup.batch({ orgIds: ['o1'], userIds: ['u1', 'u2'] });
    await append('user-u1', {
      type: 'UserLeftTeam',
      data: { orgId: 'o1', userId: 'u1', teamId: 'sales' },
    });
    const revisions = jest.spyOn(store, 'streamRevisions');
    const reads = jest.spyOn(store, 'readStream');

    const view = await lookup.batch({ orgIds: ['o1'], userIds: ['u1', 'u2'] });

    expect(view.user('u1')?.teamIds).toEqual(['platform']);
    expect(revisions).toHaveBeenCalledTimes(1);
    expect(reads.mock.calls.map(([id]) => id)).toEqual(['user-u1']);
  });

  it("given a caught-up cache, when another process appends, then a 'recent' batch answers as of the catch-up without reading", async () => {
    await givenAcme();
    await executor.catchUp();
    await lookup.batch({ orgIds: ['o1'], userIds: ['u1'] }, 'recent');
    await append('user-u1', { type: 'UserDeleted', data: { orgId: 'o1', userId: 'u1' } });
    const reads = jest.spyOn(store, 'readStream');

    expect((await lookup.batch({ orgIds: ['o1'], userIds: ['u1'] }, 'recent')).user('u1')).not.toBeNull();
    expect(reads).not.toHaveBeenCalled();
    await executor.catchUp();
    expect((await lookup.batch({ orgIds: ['o1'], userIds: ['u1'] }, 'recent')).user('u1')).toBeNull();
  });
});
