import { validate } from 'class-validator';
import { IsDateOrInstant, IsInstant } from './validation';

class Probe {
  @IsInstant()
  asOf!: string;

  @IsDateOrInstant()
  from!: string;
}

const problems = async (asOf: string, from: string) => {
  const p = Object.assign(new Probe(), { asOf, from });
  return (await validate(p)).map((e) => [e.property, Object.values(e.constraints ?? {})[0]]);
};

describe('strict date validators for DTOs', () => {
  it('given real instants and dates, then they pass', async () => {
    expect(await problems('2026-02-28T23:59:59.999+01:00', '2026-02-28')).toEqual([]);
    expect(await problems('2026-02-28T00:00:00Z', '2026-02-28T00:00:00Z')).toEqual([]);
  });

  it('given impossible dates, sub-millisecond digits or a date where an instant is needed, then each field says why', async () => {
    expect(await problems('2026-02-30T00:00:00Z', '2026-02-30')).toEqual([
      ['asOf', expect.stringMatching(/^asOf is not a real date/)],
      ['from', expect.stringMatching(/^from is not a real date/)],
    ]);
    expect(await problems('2026-02-01T00:00:00.000001Z', 'tomorrow')).toEqual([
      ['asOf', expect.stringMatching(/millisecond precision/)],
      ['from', expect.stringMatching(/^from must be a date \(YYYY-MM-DD\) or an ISO-8601 instant/)],
    ]);
    expect(await problems('2026-02-01', '2026-02-01')).toEqual([
      ['asOf', expect.stringMatching(/^asOf must be an ISO-8601 instant with a zone/)],
    ]);
  });
});
