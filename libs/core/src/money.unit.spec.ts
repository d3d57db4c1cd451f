import {
  addDecimal,
  canonicalDecimal,
  convertNanos,
  formatNanos,
  isCurrency,
  parseDecimal,
  parseFigure,
  parseRate,
  toNanos,
} from './money';

describe('exact money', () => {
  it('given decimal strings, when parsed and formatted, then nothing is lost', () => {
    expect(formatNanos(toNanos('0.000000001'))).toBe('0.000000001');
    expect(formatNanos(toNanos('123456789012345678.999999999'))).toBe('123456789012345678.999999999');
    expect(canonicalDecimal('1.50')).toBe('1.5');
    expect(canonicalDecimal('007')).toBe('7');
    expect(canonicalDecimal('-0.10')).toBe('-0.1');
  });

  it('given malformed amounts, then they are refused', () => {
    for (const bad of ['', '1.', '.5', '1e3', '0.0000000001', '1,5', 'NaN', ' 1', '1234567890123456789']) {
      expect(parseDecimal(bad)).toBeNull();
    }
  });

  it('given ten thousand 0.1 additions, then the sum is exactly 1000 (where floats drift)', () => {
    let sum = '0';
    for (let i = 0; i < 10_000; i++) sum = addDecimal(sum, '0.1');
    expect(sum).toBe('1000');
  });

  it('given a rate, when converting, then the result rounds half to even at 9 places', () => {
    expect(formatNanos(convertNanos(toNanos('10'), parseRate('0.9')!))).toBe('9');
    expect(formatNanos(convertNanos(toNanos('0.000000001'), parseRate('0.5')!))).toBe('0');
    expect(formatNanos(convertNanos(toNanos('0.000000003'), parseRate('0.5')!))).toBe('0.000000002');
    expect(formatNanos(convertNanos(toNanos('1.234567891'), parseRate('1.000000000001')!))).toBe(
      '1.234567891',
    );
    expect(parseRate('0')).toBeNull();
  });

  it('given stored figures past the input bound (sums, conversions), when read back, then they stay exact', () => {
    // Two of the largest accepted amounts in one bucket: 19 integer digits, which used to stop the projection.
    const largest = '999999999999999999.999999999';
    expect(addDecimal(largest, largest)).toBe('1999999999999999999.999999998');
    expect(parseDecimal('1999999999999999998')).toBeNull(); // still refused as input
    expect(toNanos('1999999999999999998')).toBe(1999999999999999998n * 10n ** 9n);
    // The largest amount at the largest rate: 31 integer digits.
    const converted = formatNanos(convertNanos(toNanos(largest), parseRate('999999999999.999999999999')!));
    expect(converted).toBe('999999999999999999999998999000'); // 1e30 - 1e6 - 1e3 + 1e-21, rounded to 9 places
    expect(formatNanos(toNanos(converted))).toBe(converted);
    const huge = '1' + '0'.repeat(60) + '.000000001';
    expect(formatNanos(toNanos(huge) * 3n)).toBe('3' + '0'.repeat(60) + '.000000003');
    for (const bad of ['', '1.', '.5', '1e3', '0.0000000001', '1,5', 'NaN', ' 1']) {
      expect(parseFigure(bad)).toBeNull();
      expect(() => toNanos(bad)).toThrow(RangeError);
    }
  });

  it('given ISO 4217 codes the runtime ICU list may lack, then they are currencies; made-up codes are not', () => {
    for (const code of ['USD', 'EUR', 'VED', 'CLF', 'XAU', 'XTS', 'XXX', 'ZWG'])
      expect(isCurrency(code)).toBe(true);
    for (const code of ['ABC', 'usd', 'US', 'USDX', '', 42, null]) expect(isCurrency(code)).toBe(false);
  });
});
