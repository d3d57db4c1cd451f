import { describeEngine, uniqueSuffix } from '@purser/testkit';
import { startTestServer } from '@purser/testkit';
import { quotasApiSpec } from './testing/quotas.api';

/** The same quota spec with the read store on MongoDB wire protocol (FerretDB in CI) and the bus on Kafka when set. */
describeEngine('MONGODB_URL', 'quotas API on MongoDB (+ Kafka when KAFKA_BROKERS is set)', (url) => {
  const u = new URL(url);
  u.pathname = `/purser_quota_${uniqueSuffix()}`;
  quotasApiSpec((dataDir, env) =>
    startTestServer({
      dataDir,
      env: {
        MONGODB_URL: u.toString(),
        KAFKA_BROKERS: process.env.KAFKA_BROKERS,
        EVENTSTORE_URL: process.env.EVENTSTORE_URL,
        ...env,
      },
    }),
  );
});
