import { describeEngine, uniqueSuffix } from '@purser/testkit';
import { startTestServer } from '@purser/testkit';
import { usageApiSpec } from './testing/usage.api';
import { usageIdempotencyApiSpec } from './testing/usage-idempotency.api';

/**
 * The usage API spec with the read store on the MongoDB wire protocol (FerretDB in CI), in a database of its own
 * per run, and the bus on Kafka when KAFKA_BROKERS is set (the usage consumer then joins the configured topic).
 */
describeEngine('MONGODB_URL', 'usage API on MongoDB (+ Kafka when KAFKA_BROKERS is set)', (url) => {
  /** Each spec's server has an event store of its own, hence a database of its own (projection checkpoints). */
  const start = () => {
    const u = new URL(url);
    u.pathname = `/purser_usage_${uniqueSuffix()}`;
    return startTestServer({
      env: {
        MONGODB_URL: u.toString(),
        KAFKA_BROKERS: process.env.KAFKA_BROKERS,
        EVENTSTORE_URL: process.env.EVENTSTORE_URL,
        PURSER_USAGE_TOPIC: `purser.usage.test.${uniqueSuffix()}`,
      },
    });
  };
  usageApiSpec(start);
  describe('idempotency', () => usageIdempotencyApiSpec(start));
});
