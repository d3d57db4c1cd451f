import { startTestServer } from '@purser/testkit';
import { usageApiSpec } from './testing/usage.api';
import { usageIdempotencyApiSpec } from './testing/usage-idempotency.api';

describe('usage and expenditure API on the embedded engines', () => {
  usageApiSpec(() =>
    startTestServer({ env: { MONGODB_URL: undefined, KAFKA_BROKERS: undefined, EVENTSTORE_URL: undefined } }),
  );
});

describe('usage idempotency API on the embedded engines', () => {
  usageIdempotencyApiSpec(() =>
    startTestServer({ env: { MONGODB_URL: undefined, KAFKA_BROKERS: undefined, EVENTSTORE_URL: undefined } }),
  );
});
