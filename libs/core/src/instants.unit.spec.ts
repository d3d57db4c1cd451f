import fc from 'fast-check';
import { ValidationError } from './errors';
import { dateOrInstantOrThrow, instantOrThrow, parseInstant, parseLocalDate } from './instants';

describe('strict instants', () => {
  it.each([
    ['2026-11-25T14:02:00Z', '2026-11-25T14:02:00.000Z'],
    ['2026-11-25T14:02Z', '2026-11-25T14:02:00.000Z'],
    ['2026-11-25T14:02:00.5Z', '2026-11-25T14:02:00.500Z'],
    ['2026-11-25T14:02:00.123Z', '2026-11-25T14:02:00.123Z'],
    ['2026-11-25T14:02:00.120000000Z', '2026-11-25T14:02:00.120Z'],
    ['2026-11-25T15:02:00+01:00', '2026-11-25T14:02:00.000Z'],
    ['2026-01-01T00:30:00+01:00', '2025-12-31T23:30:00.000Z'],
    ['2024-02-29T00:00:00Z', '2024-02-29T00:00:00.000Z'],
    ['2000-02-29T23:59:59.999-00:00', '2000-02-29T23:59:59.999Z'],
    ['0050-06-01T00:00:00Z', '0050-06-01T00:00:00.000Z'],
  ])('given %s, when parsed, then it is the instant %s', (input, iso) => {
    expect(parseInstant(input)).toEqual({ ok: true, ms: Date.parse(iso), iso });
  });

  it.each([
    ['2026-02-30T00:00:00Z', 'calendar'],
    ['2025-02-29T00:00:00Z', 'calendar'],
    ['1900-02-29T00:00:00Z', 'calendar'],
    ['2026-04-31T00:00:00Z', 'calendar'],
    ['2026-13-01T00:00:00Z', 'calendar'],
    ['2026-00-10T00:00:00Z', 'calendar'],
    ['2026-01-00T00:00:00Z', 'calendar'],
    ['2026-01-01T24:00:00Z', 'calendar'],
    ['2026-01-01T23:60:00Z', 'calendar'],
    ['2026-01-01T23:59:60Z', 'calendar'],
    ['2026-01-01T00:00:00+24:00', 'calendar'],
    ['2026-01-01T00:00:00.123456789Z', 'precision'],
    ['2026-01-01T00:00:00.0001Z', 'precision'],
    ['2026-01-01T00:00:00', 'format'],
    ['2026-01-01', 'format'],
    ['2026-01-01 00:00:00Z', 'format'],
    ['2026-01-01T00:00:00.1234567890Z', 'format'],
    ['20260101T000000Z', 'format'],
    ['yesterday', 'format'],
    ['0001-01-01T00:00:00+00:01', 'range'],
  ])('given %s, when parsed, then it is refused (%s)', (input, problem) => {
    expect(parseInstant(input)).toEqual({ ok: false, problem });
  });

  it('given any instant of years 0001-9999 in its ISO form, when parsed, then the same instant comes back', () => {
    fc.assert(
      fc.property(fc.integer({ min: -62_135_596_800_000, max: 253_402_300_799_999 }), (ms) => {
        const iso = new Date(ms).toISOString();
        expect(parseInstant(iso)).toEqual({ ok: true, ms, iso });
      }),
    );
  });

  it('given a refused instant, when required, then a 400 names the field and says why', () => {
    const err = (() => {
      try {
        instantOrThrow('2026-01-01T00:00:00.123456Z', 'occurredAt');
      } catch (e) {
        return e as ValidationError;
      }
    })()!;
    expect(err).toBeInstanceOf(ValidationError);
    expect(err.message).toMatch(/^occurredAt .*millisecond precision/);
    expect(err.details).toEqual([{ field: 'occurredAt', problem: 'more than millisecond precision' }]);
  });
});

describe('strict dates', () => {
  it('given real and impossible days, when parsed, then only the real ones pass', () => {
    expect(parseLocalDate('2024-02-29')).toEqual({ ok: true, year: 2024, month: 2, day: 29 });
    expect(parseLocalDate('2026-02-30')).toEqual({ ok: false, problem: 'calendar' });
    expect(parseLocalDate('2026-2-3')).toEqual({ ok: false, problem: 'format' });
  });

  it('given a date or an instant, when taken as a report bound, then dates stay and instants become canonical', () => {
    expect(dateOrInstantOrThrow('2026-09-01', 'from')).toBe('2026-09-01');
    expect(dateOrInstantOrThrow('2026-09-01T02:00:00+02:00', 'from')).toBe('2026-09-01T00:00:00.000Z');
    expect(() => dateOrInstantOrThrow('2026-02-30', 'from')).toThrow(/from is not a real date/);
    expect(() => dateOrInstantOrThrow('2026-02-28T00:00:00.0000001Z', 'to')).toThrow(
      /to has sub-millisecond/,
    );
    expect(() => dateOrInstantOrThrow('soon', 'to')).toThrow(
      /to must be a date \(YYYY-MM-DD\) or an ISO-8601/,
    );
  });
});
