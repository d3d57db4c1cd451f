import { ValidationError } from '@purser/core';
import { CheckInputPipe, fastCheckInput } from './check-input.pipe';

/** The hand-written check validator must accept only what QuotaCheckDto accepts, and leave the rest to it. */
describe('quota check input', () => {
  const pipe = new CheckInputPipe();
  const good = {
    userId: 'u-1',
    itemType: 'Agent',
    itemId: 'research.agent:v2/x@y',
    estimate: { amount: '0.05', currency: 'USD' },
  };

  it.each([
    ['an amount', good],
    ['a team and tokens', { ...good, teamId: 't_1', estimate: { tokens: 1500 } }],
    ['an empty estimate', { ...good, estimate: {} }],
  ])('given %s, then the fast path accepts it, as class-validator does', async (_, body) => {
    expect(fastCheckInput(body)).toEqual(body);
    expect(await pipe.transform(body)).toEqual(body);
  });

  it.each([
    ['a missing userId', { ...good, userId: undefined }, 'userId'],
    ['a bad userId', { ...good, userId: 'a b' }, 'userId'],
    ['an unknown item type', { ...good, itemType: 'Robot' }, 'itemType'],
    ['an unknown field', { ...good, extra: 1 }, 'extra'],
    ['an unknown estimate field', { ...good, estimate: { amount: '1', foo: 'x' } }, 'estimate.foo'],
    ['a negative amount', { ...good, estimate: { amount: '-1', currency: 'USD' } }, 'estimate.amount'],
    ['a lower-case currency', { ...good, estimate: { amount: '1', currency: 'usd' } }, 'estimate.currency'],
    ['fractional tokens', { ...good, estimate: { tokens: 1.5 } }, 'estimate.tokens'],
    ['too many tokens', { ...good, estimate: { tokens: 1e13 } }, 'estimate.tokens'],
    ['an estimate that is not an object', { ...good, estimate: 'lots' }, 'estimate'],
  ])('given %s, then the fast path declines and the usual 400 names the field', async (_, body, field) => {
    expect(fastCheckInput(body)).toBeNull();
    const err = await pipe.transform(body).then(
      () => null,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(ValidationError);
    expect((err as ValidationError).statusCode).toBe(400);
    expect((err as ValidationError).message).toMatch(/^invalid request: /);
    expect((err as ValidationError).details.map((d) => d.field)).toContain(field);
  });

  it('given a null teamId, then it is left to class-validator, which accepts an optional null', async () => {
    const body = { ...good, teamId: null };
    expect(fastCheckInput(body)).toBeNull();
    expect(await pipe.transform(body)).toMatchObject({ userId: 'u-1', teamId: null });
  });
});
