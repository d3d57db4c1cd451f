import fc from 'fast-check';
import { OpenApiDoc } from './openapi';

type Schema = Record<string, any>;

/**
 * fast-check arbitraries of values valid against a schema of the OpenAPI document: what a client generator or an
 * API fuzzer driven by the document would send. Covers the keywords the document uses.
 */
export function arbitraryOf(doc: OpenApiDoc, schema: Schema, depth = 0): fc.Arbitrary<unknown> {
  if (schema.$ref) return arbitraryOf(doc, resolve(doc, schema.$ref), depth);
  const base = nonNull(doc, schema, depth);
  return schema.nullable ? fc.oneof(fc.constant(null), base) : base;
}

function nonNull(doc: OpenApiDoc, s: Schema, depth: number): fc.Arbitrary<unknown> {
  // Swagger wraps a described $ref in a one-element allOf.
  if (s.allOf?.length === 1) return arbitraryOf(doc, s.allOf[0], depth);
  if (s.oneOf || s.anyOf)
    return fc.oneof(...(s.oneOf ?? s.anyOf).map((x: Schema) => arbitraryOf(doc, x, depth)));
  if (s.enum) return fc.constantFrom(...s.enum.filter((v: unknown) => v !== null));
  switch (s.type) {
    case 'boolean':
      return fc.boolean();
    case 'integer':
    case 'number':
      return fc.integer({
        min: s.minimum ?? 0,
        max: Math.min(s.maximum ?? 1_000_000, Number.MAX_SAFE_INTEGER),
      });
    case 'array': {
      const min = s.minItems ?? 0;
      return fc.array(arbitraryOf(doc, s.items ?? {}, depth + 1), {
        minLength: min,
        maxLength: Math.min(s.maxItems ?? 3, min + 3),
      });
    }
    case 'object': {
      const props: Record<string, fc.Arbitrary<unknown>> = {};
      for (const [k, v] of Object.entries<Schema>(s.properties ?? {}))
        props[k] = arbitraryOf(doc, v, depth + 1);
      const record = fc.record(props, { requiredKeys: s.required ?? [] });
      if (typeof s.additionalProperties !== 'object') return record;
      const key = s.propertyNames?.pattern
        ? fc.stringMatching(new RegExp(s.propertyNames.pattern))
        : fc.string({ minLength: 1 });
      return fc
        .dictionary(key, arbitraryOf(doc, s.additionalProperties, depth + 1), {
          maxKeys: Math.min(s.maxProperties ?? 3, 3),
        })
        .chain((extra) => record.map((r) => ({ ...extra, ...r })));
    }
    default:
      return stringOf(s);
  }
}

function stringOf(s: Schema): fc.Arbitrary<string> {
  if (s.format === 'date-time')
    return fc
      .date({ min: new Date('2000-01-02T00:00:00Z'), max: new Date(), noInvalidDate: true })
      .map((d) => d.toISOString());
  if (s.format === 'email') return fc.stringMatching(/^[a-z0-9]{1,20}@[a-z]{1,10}\.test$/);
  const min = s.minLength ?? 0;
  const max = s.maxLength ?? 64;
  const text = s.pattern
    ? fc.stringMatching(new RegExp(s.pattern), { size: 'small' })
    : fc.string({ minLength: min, maxLength: max });
  return text.filter((v) => v.length >= min && v.length <= max);
}

export function resolve(doc: OpenApiDoc, ref: string): Schema {
  const parts = ref.replace(/^#\//, '').split('/');
  let node: any = doc;
  for (const p of parts) node = node?.[p];
  if (!node) throw new Error(`unresolved $ref ${ref}`);
  return node;
}
