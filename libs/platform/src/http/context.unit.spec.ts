import { scopeOf } from './context';

describe("the guard's scope from a route's path parameters", () => {
  it('given an org route, then the org; given a team, then the team and the team as the resource', () => {
    expect(scopeOf({})).toEqual({});
    expect(scopeOf({ orgId: 'o1' })).toEqual({ orgId: 'o1' });
    expect(scopeOf({ orgId: 'o1', teamId: 't1' })).toEqual({
      orgId: 'o1',
      teamId: 't1',
      resource: { type: 'team', id: 't1' },
    });
  });

  it('given nested parameters, then the deepest resource: quota, then API key, then user, then team', () => {
    expect(scopeOf({ orgId: 'o1', quotaId: 'q1' })).toEqual({
      orgId: 'o1',
      resource: { type: 'quota', id: 'q1' },
    });
    expect(scopeOf({ orgId: 'o1', teamId: 't1', keyId: 'k1' })).toEqual({
      orgId: 'o1',
      teamId: 't1',
      resource: { type: 'apiKey', id: 'k1' },
    });
    expect(scopeOf({ orgId: 'o1', userId: 'u1' })).toMatchObject({ resource: { type: 'user', id: 'u1' } });
  });
});
