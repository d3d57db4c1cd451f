import {
  BatchOutcome,
  ConsumedMessage,
  Consumer,
  ConsumerOptions,
  DLQ_REASON_HEADER,
  DLQ_SOURCE_HEADER,
  MessageBus,
} from '@purser/core';
import { eventually, uniqueSuffix } from '../engines';

export interface MessageBusContractOptions<B extends MessageBus> {
  /**
   * Publishes a value exactly as given, as a foreign producer could (the port itself only publishes JSON).
   * Used to check that a value that is not JSON is delivered with `raw` instead of blocking its partition.
   */
  publishRaw(bus: B, topic: string, key: string, raw: string): Promise<void>;
  /** How long to wait for a delivery. Default 20 s. */
  timeoutMs?: number;
}

type Value = { id: string; key?: string; seq?: number; n?: number };

/**
 * The MessageBus contract: every adapter runs it (InProcessBus always, KafkaBus against a real broker).
 *
 * `makeBus` returns a new bus each call. Buses from one factory must reach the same topics and group
 * offsets (the same cluster, or the same in-process broker): a new bus stands for a restarted process.
 */
export function messageBusContract<B extends MessageBus>(
  makeBus: () => Promise<B>,
  options: MessageBusContractOptions<B>,
): void {
  const timeoutMs = options.timeoutMs ?? 20000;
  const buses: B[] = [];

  const newBus = async (): Promise<B> => {
    const bus = await makeBus();
    buses.push(bus);
    return bus;
  };

  afterEach(async () => {
    await Promise.all(buses.splice(0).map((b) => b.close()));
  });

  const names = () => {
    const s = uniqueSuffix();
    return { topic: `contract.bus.${s}`, group: `contract-group-${s}` };
  };

  const waitFor = <T>(probe: () => T, check: (v: T) => boolean, what: string) =>
    eventually(probe, check, { timeoutMs, what });

  /** A handler that records every message it is given. */
  const recorder = () => {
    const seen: ConsumedMessage[] = [];
    const ids = () => seen.map((m) => (m.value as Value | undefined)?.id);
    const handler = async (batch: ConsumedMessage[]): Promise<void> => {
      seen.push(...batch);
    };
    return { seen, ids, handler };
  };

  const subscribe = (
    bus: B,
    opts: ConsumerOptions,
    handler: (batch: ConsumedMessage[]) => Promise<BatchOutcome | void>,
  ): Promise<Consumer> => bus.subscribe(opts, handler);

  const idOf = (m: ConsumedMessage) => (m.value as Value).id;

  it('given messages published with keys, when a group consumes them, then it receives each once, in order per key, with key and headers', async () => {
    const { topic, group } = names();
    const bus = await newBus();
    const keys = ['alpha', 'beta', 'gamma'];
    for (let seq = 0; seq < 5; seq++) {
      await bus.publish(
        topic,
        keys.map((key) => ({
          key,
          value: { id: `${key}-${seq}`, key, seq },
          headers: { 'x-test-id': `${key}-${seq}` },
        })),
      );
    }

    const rec = recorder();
    await subscribe(bus, { topic, groupId: group }, rec.handler);
    await waitFor(
      () => rec.seen.length,
      (n) => n >= 15,
      '15 messages',
    );

    expect(rec.seen).toHaveLength(15);
    expect(new Set(rec.ids()).size).toBe(15);
    for (const key of keys) {
      const ofKey = rec.seen.filter((m) => m.key === key);
      expect(ofKey.map((m) => (m.value as Value).seq)).toEqual([0, 1, 2, 3, 4]);
      expect(new Set(ofKey.map((m) => m.partition)).size).toBe(1);
    }
    for (const m of rec.seen) {
      expect(m.topic).toBe(topic);
      expect(m.offset).toMatch(/^\d+$/);
      expect(m.raw).toBeUndefined();
      expect(m.headers?.['x-test-id']).toBe(idOf(m));
    }
    const byPartition = new Map<number, bigint[]>();
    for (const m of rec.seen)
      byPartition.set(m.partition, [...(byPartition.get(m.partition) ?? []), BigInt(m.offset)]);
    for (const offsets of byPartition.values())
      expect(offsets).toEqual([...offsets].sort((a, b) => (a < b ? -1 : 1)));
  });

  it('given two consumer groups subscribed to a topic, when messages are published, then each group receives every message', async () => {
    const { topic, group } = names();
    const bus = await newBus();
    const first = recorder();
    const second = recorder();
    await subscribe(bus, { topic, groupId: `${group}-a` }, first.handler);
    await subscribe(bus, { topic, groupId: `${group}-b` }, second.handler);

    const ids = Array.from({ length: 8 }, (_, i) => `m${i}`);
    await bus.publish(
      topic,
      ids.map((id, i) => ({ key: `k${i % 4}`, value: { id } })),
    );

    await waitFor(
      () => first.seen.length + second.seen.length,
      (n) => n >= 16,
      'both groups to receive 8 messages',
    );
    expect([...first.ids()].sort()).toEqual(ids);
    expect([...second.ids()].sort()).toEqual(ids);
  });

  it('given two consumers in one group, when messages are published, then they share the partitions and each message is handled by one of them', async () => {
    const { topic, group } = names();
    const bus = await newBus();
    const first = recorder();
    const second = recorder();
    await subscribe(bus, { topic, groupId: group }, first.handler);
    await subscribe(bus, { topic, groupId: group }, second.handler);

    // Enough distinct keys to cover every partition.
    const ids = Array.from({ length: 30 }, (_, i) => `m${String(i).padStart(2, '0')}`);
    await bus.publish(
      topic,
      ids.map((id) => ({ key: `key-${id}`, value: { id } })),
    );

    await waitFor(
      () => first.seen.length + second.seen.length,
      (n) => n >= 30,
      'the group to receive 30 messages',
    );
    expect([...first.ids(), ...second.ids()].sort()).toEqual(ids);
    expect(first.seen.length).toBeGreaterThan(0);
    expect(second.seen.length).toBeGreaterThan(0);
    const firstPartitions = new Set(first.seen.map((m) => m.partition));
    expect(second.seen.filter((m) => firstPartitions.has(m.partition))).toEqual([]);
  });

  it('given a group that handled messages and stopped, when it restarts on a new bus, then it resumes from its committed offsets without re-reading them', async () => {
    const { topic, group } = names();
    const keys = ['k0', 'k1', 'k2'];
    const before = await newBus();
    await before.publish(
      topic,
      Array.from({ length: 6 }, (_, i) => ({ key: keys[i % 3], value: { id: `a${i}` } })),
    );
    const first = recorder();
    const consumer = await subscribe(before, { topic, groupId: group }, first.handler);
    await waitFor(
      () => first.seen.length,
      (n) => n >= 6,
      'the first 6 messages',
    );
    await consumer.stop();
    await before.close();

    const after = await newBus();
    // Same keys, so each new message follows an old one in its partition: a re-read would arrive first.
    await after.publish(
      topic,
      Array.from({ length: 6 }, (_, i) => ({ key: keys[i % 3], value: { id: `b${i}` } })),
    );
    const second = recorder();
    await subscribe(after, { topic, groupId: group }, second.handler);
    await waitFor(
      () => second.seen.length,
      (n) => n >= 6,
      'the 6 new messages',
    );

    expect([...first.ids()].sort()).toEqual(['a0', 'a1', 'a2', 'a3', 'a4', 'a5']);
    expect([...second.ids()].sort()).toEqual(['b0', 'b1', 'b2', 'b3', 'b4', 'b5']);
  });

  it('given a consumer that crashes in the middle of a batch, when the process restarts, then delivery resumes from the last committed offset and every message is handled at least once', async () => {
    const { topic, group } = names();
    const ids = Array.from({ length: 8 }, (_, i) => `m${i}`);
    const handled = new Map<string, number>();
    const count = (id: string) => handled.set(id, (handled.get(id) ?? 0) + 1);

    const crashing = await newBus();
    await crashing.publish(
      topic,
      ids.map((id) => ({ key: 'one-key', value: { id } })),
    );
    let crashes = 0;
    const consumer = await subscribe(
      crashing,
      // Retries far beyond the test: the crashed batch is never parked on the dead-letter topic.
      { topic, groupId: group, maxRetries: 1000, retryBackoffMs: 20 },
      async (batch) => {
        for (const m of batch) {
          if (idOf(m) === 'm5') {
            crashes++;
            throw new Error('simulated crash');
          }
          count(idOf(m));
        }
      },
    );
    await waitFor(
      () => crashes,
      (n) => n >= 1,
      'the crash',
    );
    // The process dies: the failing batch is abandoned, nothing of it committed.
    await consumer.stop();
    await crashing.close();

    const restarted = await newBus();
    const redelivered: string[] = [];
    await subscribe(restarted, { topic, groupId: group }, async (batch) => {
      for (const m of batch) {
        redelivered.push(idOf(m));
        count(idOf(m));
      }
    });
    await waitFor(() => ids.every((id) => handled.has(id)), Boolean, 'every message handled');

    expect([...handled.keys()].sort()).toEqual(ids);
    // Resumed at or before the message that crashed, and went on in order from there.
    const from = redelivered.indexOf('m5');
    expect(from).toBeGreaterThanOrEqual(0);
    expect(redelivered.slice(from)).toEqual(['m5', 'm6', 'm7']);
    expect(redelivered).toEqual(ids.slice(ids.indexOf(redelivered[0])));
  });

  it('given a handler that keeps throwing, when its retries are exhausted, then the batch is parked on the dead-letter topic with the reason and source, and the partition moves on', async () => {
    const { topic, group } = names();
    const bus = await newBus();
    await bus.publish(topic, [{ key: 'k', value: { id: 'poison' }, headers: { 'x-origin': 'test' } }]);

    let attempts = 0;
    let poison: ConsumedMessage | undefined;
    const handled: string[] = [];
    await subscribe(bus, { topic, groupId: group, maxRetries: 2, retryBackoffMs: 10 }, async (batch) => {
      const bad = batch.find((m) => idOf(m) === 'poison');
      if (bad) {
        attempts++;
        poison = bad;
        throw new Error('cannot handle poison');
      }
      handled.push(...batch.map(idOf));
    });
    await waitFor(
      () => attempts,
      (n) => n >= 1,
      'the first attempt',
    );
    // Published once the poison's batch is in flight, so it is in a later batch of the same partition.
    await bus.publish(topic, [{ key: 'k', value: { id: 'after' } }]);

    await waitFor(
      () => handled,
      (h) => h.includes('after'),
      'the next message',
    );
    expect(attempts).toBe(3); // the first attempt and maxRetries retries
    expect(handled).toEqual(['after']);

    const dlq = recorder();
    await subscribe(bus, { topic: `${topic}.dlq`, groupId: `${group}-dlq` }, dlq.handler);
    await waitFor(
      () => dlq.seen.length,
      (n) => n >= 1,
      'the parked message',
    );
    expect(dlq.seen).toHaveLength(1);
    const [parked] = dlq.seen;
    expect(parked.value).toEqual({ id: 'poison' });
    expect(parked.key).toBe('k');
    expect(parked.headers).toMatchObject({
      'x-origin': 'test',
      [DLQ_REASON_HEADER]: 'cannot handle poison',
      [DLQ_SOURCE_HEADER]: `${topic}/${poison!.partition}/${poison!.offset}`,
    });
  });

  it('given a handler that rejects some messages, when it returns, then those are parked with their reason, the others are handled, and none is delivered again', async () => {
    const { topic, group } = names();
    const deadLetterTopic = `${topic}.rejects`;
    const bus = await newBus();
    await bus.publish(
      topic,
      Array.from({ length: 6 }, (_, n) => ({ key: 'k', value: { id: `n${n}`, n } })),
    );

    const handled: string[] = [];
    const handler = async (batch: ConsumedMessage[]): Promise<BatchOutcome> => {
      const odd = batch.filter((m) => (m.value as Value).n! % 2 === 1);
      handled.push(...batch.filter((m) => !odd.includes(m)).map(idOf));
      return {
        rejected: odd.map((message) => ({ message, reason: `odd number ${(message.value as Value).n}` })),
      };
    };
    const consumer = await subscribe(bus, { topic, groupId: group, deadLetterTopic }, handler);
    await waitFor(
      () => handled.length,
      (n) => n >= 3,
      'the even messages',
    );

    const dlq = recorder();
    await subscribe(bus, { topic: deadLetterTopic, groupId: `${group}-dlq` }, dlq.handler);
    await waitFor(
      () => dlq.seen.length,
      (n) => n >= 3,
      'the 3 rejected messages',
    );
    expect(handled).toEqual(['n0', 'n2', 'n4']);
    expect(dlq.seen.map((m) => m.value)).toEqual([
      { id: 'n1', n: 1 },
      { id: 'n3', n: 3 },
      { id: 'n5', n: 5 },
    ]);
    expect(dlq.seen.map((m) => m.headers?.[DLQ_REASON_HEADER])).toEqual([
      'odd number 1',
      'odd number 3',
      'odd number 5',
    ]);
    for (const m of dlq.seen) {
      expect(m.key).toBe('k');
      expect(m.headers?.[DLQ_SOURCE_HEADER]).toMatch(
        new RegExp(`^${topic.replace(/\./g, '\\.')}/\\d+/\\d+$`),
      );
    }

    // Rejected messages were committed too: after a restart only the new message arrives.
    await consumer.stop();
    const restarted = await newBus();
    await restarted.publish(topic, [{ key: 'k', value: { id: 'sentinel', n: 6 } }]);
    const again = recorder();
    await subscribe(restarted, { topic, groupId: group, deadLetterTopic }, again.handler);
    await waitFor(
      () => again.seen.length,
      (n) => n >= 1,
      'the sentinel',
    );
    expect(again.ids()).toEqual(['sentinel']);
  });

  it('given a message whose value is not JSON, when it is consumed, then it arrives with raw set, can be rejected, and does not block its partition', async () => {
    const { topic, group } = names();
    const bus = await newBus();
    const garbage = '{"id": "broken", oops';
    await options.publishRaw(bus, topic, 'k', garbage);
    await bus.publish(topic, [{ key: 'k', value: { id: 'after' } }]);

    const invalid: ConsumedMessage[] = [];
    const handled: string[] = [];
    await subscribe(bus, { topic, groupId: group }, async (batch) => {
      const bad = batch.filter((m) => m.raw !== undefined);
      invalid.push(...bad);
      handled.push(...batch.filter((m) => m.raw === undefined).map(idOf));
      return { rejected: bad.map((message) => ({ message, reason: 'value is not JSON' })) };
    });
    await waitFor(
      () => handled,
      (h) => h.includes('after'),
      'the message after the invalid one',
    );
    expect(invalid).toHaveLength(1);
    expect(invalid[0].value).toBeUndefined();
    expect(invalid[0].raw).toBe(garbage);
    expect(invalid[0].key).toBe('k');

    const dlq = recorder();
    await subscribe(bus, { topic: `${topic}.dlq`, groupId: `${group}-dlq` }, dlq.handler);
    await waitFor(
      () => dlq.seen.length,
      (n) => n >= 1,
      'the parked invalid message',
    );
    expect(dlq.seen[0].raw).toBe(garbage);
    expect(dlq.seen[0].value).toBeUndefined();
    expect(dlq.seen[0].headers?.[DLQ_REASON_HEADER]).toBe('value is not JSON');
  });

  it('given a batch in flight, when stop() is called, then it waits for the batch, commits it, and delivers nothing more', async () => {
    const { topic, group } = names();
    const bus = await newBus();
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    const first = recorder();
    const consumer = await subscribe(bus, { topic, groupId: group }, async (batch) => {
      await first.handler(batch);
      await gate;
    });
    await bus.publish(topic, [{ key: 'k', value: { id: 'm1' } }]);
    await waitFor(
      () => first.seen.length,
      (n) => n >= 1,
      'the first message',
    );

    let stopped = false;
    const stopping = consumer.stop().then(() => (stopped = true));
    await new Promise((resolve) => setImmediate(resolve));
    expect(stopped).toBe(false); // the handler is still running
    release();
    await stopping;

    await bus.publish(topic, [{ key: 'k', value: { id: 'm2' } }]);
    const second = recorder();
    await subscribe(bus, { topic, groupId: group }, second.handler);
    await waitFor(
      () => second.seen.length,
      (n) => n >= 1,
      'the next message, on a new consumer',
    );

    expect(first.ids()).toEqual(['m1']); // nothing after stop()
    expect(second.ids()).toEqual(['m2']); // m1 was committed by stop()
  });
}
