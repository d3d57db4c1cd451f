import { runRate } from './run-rate';

describe('run rate', () => {
  it('given ten days 1..10, then each of the next 3 days is the mean of the last 7 (4..10 -> 7)', () => {
    const history = Array.from({ length: 10 }, (_, i) => i + 1);
    expect(runRate(history, 3)).toEqual([7, 7, 7]);
  });

  it('given fewer days than k, then it averages what there is', () => {
    expect(runRate([2, 4], 2, 7)).toEqual([3, 3]);
  });
});
