import { BodyRefusedError, MAX_JSON_DEPTH, forbiddenKeyPath, parseJsonBody } from './json-body';

const nested = (levels: number) => '['.repeat(levels) + ']'.repeat(levels);
const refusal = (text: string | Buffer) => {
  try {
    parseJsonBody(Buffer.isBuffer(text) ? text : Buffer.from(text));
  } catch (e) {
    return e as BodyRefusedError;
  }
  throw new Error('not refused');
};

describe('the JSON body parser of the edge', () => {
  it('given bodies at and past the depth bound, then the bound is exact', () => {
    expect(parseJsonBody(Buffer.from(nested(MAX_JSON_DEPTH)))).toBeDefined();
    expect(refusal(nested(MAX_JSON_DEPTH + 1)).reason).toBe('too deep');
    expect(refusal('{"a":'.repeat(100_000) + '1' + '}'.repeat(100_000)).reason).toBe('too deep');
  });

  it('given brackets inside strings, then they do not count as nesting', () => {
    expect(parseJsonBody(Buffer.from(JSON.stringify({ s: '['.repeat(500) })))).toEqual({
      s: '['.repeat(500),
    });
  });

  it('given forbidden keys in any spelling, then the path of the first is named', () => {
    expect(refusal('{"a":[{"__proto__":{}}]}').details).toEqual([
      { field: 'a[0].__proto__', problem: 'forbidden key' },
    ]);
    expect(refusal('{"\\u005f_proto__":1}').details[0].field).toBe('__proto__');
    expect(refusal('{"x":{"constructor":{"prototype":{}}}}').details[0].field).toBe(
      'x.constructor.prototype',
    );
  });

  it('given "constructor" or "__proto__" as plain values or a constructor without prototype, then they pass', () => {
    expect(parseJsonBody(Buffer.from('{"constructor":"x","model":"__proto__"}'))).toEqual({
      constructor: 'x',
      model: '__proto__',
    });
    expect(forbiddenKeyPath({ constructor: { name: 'x' } })).toBeNull();
  });

  it('given invalid UTF-8, an empty body, a BOM and broken JSON, then each is told apart', () => {
    expect(refusal(Buffer.from([0x7b, 0x22, 0xc3, 0x22, 0x3a, 0x31, 0x7d])).reason).toBe('invalid UTF-8');
    expect(refusal('').reason).toBe('empty');
    expect(parseJsonBody(Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from('{"a":1}')]))).toEqual({
      a: 1,
    });
    expect(refusal('{"a":').message).toBe('Body is not valid JSON');
  });
});
