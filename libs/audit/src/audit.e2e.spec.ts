import { startTestServer } from '@purser/testkit';
import { auditApiSpec } from './testing/audit.api';

/** The audit trail on the embedded engines. */
auditApiSpec(() =>
  startTestServer({ env: { MONGODB_URL: undefined, KAFKA_BROKERS: undefined, EVENTSTORE_URL: undefined } }),
);
