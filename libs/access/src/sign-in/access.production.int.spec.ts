import { describeEngine, startTestServer, uniqueSuffix } from '@purser/testkit';
import { signInApiSpec } from './testing/sign-in.api';
import { accountsApiSpec } from './testing/accounts.api';

/** The same sign-in and account specs with the read store on MongoDB wire protocol (FerretDB in CI) and Kafka when set. */
describeEngine('MONGODB_URL', 'access API on MongoDB (+ Kafka when KAFKA_BROKERS is set)', (url) => {
  const production = (env: Record<string, string>) => {
    const u = new URL(url);
    u.pathname = `/purser_access_${uniqueSuffix()}`;
    return startTestServer({
      env: {
        MONGODB_URL: u.toString(),
        KAFKA_BROKERS: process.env.KAFKA_BROKERS,
        EVENTSTORE_URL: process.env.EVENTSTORE_URL,
        ...env,
      },
    });
  };
  signInApiSpec(production);
  accountsApiSpec(production);
});
