import { periodBounds, periodKeys } from './periods';

describe('periods in an org time zone', () => {
  it('given an instant late on Sunday UTC, then in Tokyo it is already Monday of the next ISO week', () => {
    expect(periodKeys('2026-11-29T20:30:00Z', 'UTC')).toEqual({
      hour: '2026-11-29T20',
      day: '2026-11-29',
      week: 'W2026-11-23',
      month: '2026-11',
    });
    expect(periodKeys('2026-11-29T20:30:00Z', 'Asia/Tokyo')).toEqual({
      hour: '2026-11-30T05',
      day: '2026-11-30',
      week: 'W2026-11-30',
      month: '2026-11',
    });
  });

  it('given a half-hour zone, then hours are cut at local boundaries', () => {
    expect(periodKeys('2026-01-01T00:29:59Z', 'Asia/Kolkata').hour).toBe('2026-01-01T05');
    expect(periodKeys('2026-01-01T00:30:00Z', 'Asia/Kolkata').hour).toBe('2026-01-01T06');
  });

  it('given month and day bounds across a DST change, then they start at local midnight', () => {
    expect(periodBounds('month', '2026-03-15T12:00:00Z', 'Europe/Paris')).toEqual({
      key: '2026-03',
      start: '2026-02-28T23:00:00.000Z',
      end: '2026-03-31T22:00:00.000Z',
    });
    expect(periodBounds('day', '2026-03-29T12:00:00Z', 'Europe/Paris')).toEqual({
      key: '2026-03-29',
      start: '2026-03-28T23:00:00.000Z',
      end: '2026-03-29T22:00:00.000Z',
    });
    expect(periodBounds('week', '2026-11-25T12:00:00Z', 'America/New_York')).toEqual({
      key: 'W2026-11-23',
      start: '2026-11-23T05:00:00.000Z',
      end: '2026-11-30T05:00:00.000Z',
    });
  });
});
