import { seasonalNaive } from './seasonal-naive';

describe('seasonal naive with a weekday profile', () => {
  // Days 0..13 hold 1..14; day 14 falls on the weekday of days 7 and 0.
  const history = Array.from({ length: 14 }, (_, i) => i + 1);

  it('given one week of profile, then a day is the same weekday a week before, also beyond a week ahead', () => {
    expect(seasonalNaive(history, 8, 1)).toEqual([8, 9, 10, 11, 12, 13, 14, 8]);
  });

  it('given a two-week profile, then a day is the mean of the same weekday over both weeks', () => {
    expect(seasonalNaive(history, 2, 2)).toEqual([(8 + 1) / 2, (9 + 2) / 2]);
  });

  it('given a profile longer than the history, then it averages the weeks there are', () => {
    expect(seasonalNaive(history, 1, 4)).toEqual([(8 + 1) / 2]);
  });
});
