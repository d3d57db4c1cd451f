import { ConsumedMessage } from '@purser/core';
import { messageBusContract } from '@purser/testkit';
import { describeEngine, eventually, uniqueSuffix } from '@purser/testkit';
import { KafkaBus, KafkaBusLogger, KafkaBusOptions } from './kafka-bus';

/** Errors are printed (they mean something is wrong); warnings (retries, parkings) are expected here. */
const logger: KafkaBusLogger = {
  warn: () => undefined,
  error: (obj, msg) => console.error(msg, obj),
};

/** The shortest session the broker allows by default (group.min.session.timeout.ms). */
const SESSION_TIMEOUT_MS = 6000;

/** Short timeouts keep group joins, rebalances and stop() quick against a local broker. */
const consumer: KafkaBusOptions['consumer'] = {
  sessionTimeoutMs: SESSION_TIMEOUT_MS,
  heartbeatIntervalMs: 500,
  rebalanceTimeoutMs: 6000,
  maxWaitTimeMs: 100,
};

describeEngine('KAFKA_BROKERS', 'Kafka message bus contract', (brokers) => {
  messageBusContract(async () => new KafkaBus({ brokers, clientId: 'purser-contract', logger, consumer }), {
    publishRaw: (bus, topic, key, raw) => bus.publishRaw(topic, [{ key, raw }]),
  });

  describe('Kafka specifics', () => {
    let bus: KafkaBus;
    beforeEach(() => {
      bus = new KafkaBus({ brokers, clientId: 'purser-kafka-spec', logger, consumer });
    });
    afterEach(() => bus.close());

    it('given a batch that takes longer than the session timeout, when it finishes, then the consumer kept its partitions and the batch is committed once', async () => {
      const topic = `kafka.bus.slow.${uniqueSuffix()}`;
      const groupId = `slow-${uniqueSuffix()}`;
      const handled: string[] = [];
      let calls = 0;
      await bus.subscribe({ topic, groupId }, async (batch: ConsumedMessage[]) => {
        if (calls++ === 0) {
          // Slow work: longer than the session timeout, so only heartbeats during the batch keep the member.
          await new Promise((resolve) => setTimeout(resolve, SESSION_TIMEOUT_MS + 2000));
        }
        handled.push(...batch.map((m) => (m.value as { id: string }).id));
      });
      await bus.publish(topic, [{ key: 'k', value: { id: 'slow' } }]);
      await eventually(
        () => calls,
        (n) => n >= 1,
        { what: 'the slow batch to start' },
      );
      await bus.publish(topic, [{ key: 'k', value: { id: 'next' } }]);

      await eventually(
        () => handled,
        (h) => h.includes('next'),
        { timeoutMs: 30000, what: 'the next message' },
      );
      expect(handled).toEqual(['slow', 'next']);
    });

    it('given a comma-separated broker list, when the bus publishes and consumes, then it works', async () => {
      await bus.close();
      bus = new KafkaBus({ brokers: `${brokers}, ${brokers}`, logger, consumer });
      const topic = `kafka.bus.list.${uniqueSuffix()}`;
      await bus.publish(topic, [{ key: null, value: { id: 'no-key' } }]);
      const seen: ConsumedMessage[] = [];
      await bus.subscribe({ topic, groupId: `list-${uniqueSuffix()}` }, async (batch) => {
        seen.push(...batch);
      });
      await eventually(
        () => seen.length,
        (n) => n >= 1,
        { what: 'the message' },
      );
      expect(seen[0]).toMatchObject({ key: null, value: { id: 'no-key' } });
    });
  });
});
