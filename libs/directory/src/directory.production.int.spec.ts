import { describeEngine, uniqueSuffix } from '@purser/testkit';
import { startTestServer } from '@purser/testkit';
import { directoryApiSpec } from './testing/directory.api';

/** The same API spec with the read store on MongoDB wire protocol (FerretDB in CI) and the bus on Kafka when set. */
describeEngine('MONGODB_URL', 'directory API on MongoDB (+ Kafka when KAFKA_BROKERS is set)', (url) => {
  const db = `purser_dir_${uniqueSuffix()}`;
  const u = new URL(url);
  u.pathname = `/${db}`;
  const mongo = u.toString();
  directoryApiSpec((dataDir) =>
    startTestServer({
      dataDir,
      env: {
        MONGODB_URL: mongo,
        KAFKA_BROKERS: process.env.KAFKA_BROKERS,
        EVENTSTORE_URL: process.env.EVENTSTORE_URL,
      },
    }),
  );
});
