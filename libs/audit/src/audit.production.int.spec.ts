import { describeEngine, startTestServer, uniqueSuffix } from '@purser/testkit';
import { auditApiSpec } from './testing/audit.api';

/** The same audit spec with the read store on MongoDB wire protocol (FerretDB in CI) and Kafka when set. */
describeEngine('MONGODB_URL', 'audit API on MongoDB (+ Kafka when KAFKA_BROKERS is set)', (url) => {
  auditApiSpec(() => {
    const u = new URL(url);
    u.pathname = `/purser_audit_${uniqueSuffix()}`;
    return startTestServer({
      env: {
        MONGODB_URL: u.toString(),
        KAFKA_BROKERS: process.env.KAFKA_BROKERS,
        EVENTSTORE_URL: process.env.EVENTSTORE_URL,
      },
    });
  });
});
