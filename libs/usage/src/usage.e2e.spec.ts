import { startTestServer } from '../../../test/support/app';
import { usageApiSpec } from './testing/usage.api';

describe('usage and expenditure API on the embedded engines', () => {
  usageApiSpec(() =>
    startTestServer({ env: { MONGODB_URL: undefined, KAFKA_BROKERS: undefined, EVENTSTORE_URL: undefined } }),
  );
});
