import { decodeKey, encodeKey } from './projection';

describe('expenditure map keys', () => {
  it.each(['Tool:web.search', 'Agent:support_bot', 'Prompt:a/b@c:d', 'Assistant:x-y', 'Tool:100%'])(
    'given the item key %s, then it encodes to a path-safe segment and decodes back',
    (key) => {
      const enc = encodeKey(key);
      expect(enc).toMatch(/^[A-Za-z0-9_-]+$/);
      expect(decodeKey(enc)).toBe(key);
    },
  );
});
