import { startTestServer } from '@purser/testkit';
import { quotasApiSpec } from './testing/quotas.api';

describe('quotas API on the embedded engines', () => {
  quotasApiSpec((dataDir, env) =>
    startTestServer({
      dataDir,
      env: { MONGODB_URL: undefined, KAFKA_BROKERS: undefined, EVENTSTORE_URL: undefined, ...env },
    }),
  );
});
