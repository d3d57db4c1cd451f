import { startTestServer } from '@purser/testkit';
import { directoryApiSpec } from './testing/directory.api';

describe('directory API on the embedded engines (SQLite + in-process bus)', () => {
  directoryApiSpec((dataDir) =>
    startTestServer({
      dataDir,
      env: { MONGODB_URL: undefined, KAFKA_BROKERS: undefined, EVENTSTORE_URL: undefined },
    }),
  );
});
