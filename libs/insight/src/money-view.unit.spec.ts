import { moneyString } from './money-view';

describe('a statistic shown as money', () => {
  it('given floats, then a canonical decimal string at 9 places', () => {
    expect(moneyString(0.1 + 0.2)).toBe('0.3');
    expect(moneyString(1.25)).toBe('1.25');
    expect(moneyString(0)).toBe('0');
    expect(moneyString(1 / 3)).toBe('0.333333333');
  });

  it('given an exact half of a nano-unit, then it rounds half to even', () => {
    expect(moneyString(2.5e-9)).toBe('0.000000002');
    expect(moneyString(3.5e-9)).toBe('0.000000004');
    expect(moneyString(-2.5e-9)).toBe('-0.000000002');
  });
});
