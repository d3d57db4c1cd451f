import { startTestServer } from '@purser/testkit';
import { signInApiSpec } from './testing/sign-in.api';
import { accountsApiSpec } from './testing/accounts.api';

/** The sign-in and account API specs on the embedded engines (access.production.int.spec.ts: the same on MongoDB + Kafka). */
const embedded = (env: Record<string, string>) =>
  startTestServer({
    env: { MONGODB_URL: undefined, KAFKA_BROKERS: undefined, EVENTSTORE_URL: undefined, ...env },
  });

signInApiSpec(embedded);
accountsApiSpec(embedded);
