import pino from 'pino';
import { ConsumedMessage } from '@purser/core';
import { messageBusContract } from '@purser/testkit';
import { eventually } from '@purser/testkit';
import { InProcessBroker, InProcessBus } from './in-process-bus';

const logger = pino({ level: 'error' });

describe('InProcessBus', () => {
  describe('MessageBus contract', () => {
    // One broker for the file: each new bus is a "restarted process" that finds the topics and offsets again.
    const broker = new InProcessBroker();
    messageBusContract(async () => new InProcessBus({ broker, logger }), {
      publishRaw: (bus, topic, key, raw) => bus.publishRaw(topic, [{ key, raw }]),
      timeoutMs: 5000,
    });
  });

  const buses: InProcessBus[] = [];
  const newBus = (options: ConstructorParameters<typeof InProcessBus>[0] = {}) => {
    const bus = new InProcessBus({ logger, ...options });
    buses.push(bus);
    return bus;
  };
  afterEach(async () => {
    await Promise.all(buses.splice(0).map((b) => b.close()));
  });

  it('given a subscribed group, when a message is published, then the handler runs later, never inside publish', async () => {
    const bus = newBus();
    const seen: ConsumedMessage[] = [];
    await bus.subscribe({ topic: 't', groupId: 'g' }, async (batch) => {
      seen.push(...batch);
    });
    const publishing = bus.publish('t', [{ key: 'k', value: { n: 1 } }]);
    expect(seen).toHaveLength(0);
    await publishing;
    await eventually(
      () => seen.length,
      (n) => n === 1,
    );
  });

  it('given a group without offsets and fromBeginning false, when it subscribes, then it only sees messages published afterwards', async () => {
    const bus = newBus();
    await bus.publish('t', [{ key: 'k', value: { id: 'old' } }]);
    const seen: unknown[] = [];
    await bus.subscribe({ topic: 't', groupId: 'late', fromBeginning: false }, async (batch) => {
      seen.push(...batch.map((m) => m.value));
    });
    await bus.publish('t', [{ key: 'k', value: { id: 'new' } }]);
    await eventually(
      () => seen.length,
      (n) => n >= 1,
    );
    expect(seen).toEqual([{ id: 'new' }]);
  });

  it('given a value JSON cannot serialize, when it is published, then publish rejects and nothing of the call is stored', async () => {
    const bus = newBus();
    await expect(
      bus.publish('t', [
        { key: 'k', value: { ok: true } },
        { key: 'k', value: { amount: 1n } },
      ]),
    ).rejects.toThrow(TypeError);
    expect(bus.broker.partitions('t').flat()).toHaveLength(0);
  });

  it('given a closed bus, when it is used, then it refuses and its consumers have left their groups', async () => {
    const broker = new InProcessBroker(3);
    const bus = newBus({ broker });
    let calls = 0;
    await bus.subscribe({ topic: 't', groupId: 'g' }, async () => {
      calls++;
    });
    await bus.close();
    await expect(bus.publish('t', [{ key: 'k', value: 1 }])).rejects.toThrow(/closed/);

    // Had the closed consumer stayed in the group it would own some of the partitions these keys cover.
    const other = newBus({ broker });
    const seen: ConsumedMessage[] = [];
    await other.subscribe({ topic: 't', groupId: 'g' }, async (batch) => {
      seen.push(...batch);
    });
    await other.publish(
      't',
      Array.from({ length: 30 }, (_, i) => ({ key: `key-${i}`, value: i })),
    );
    await eventually(
      () => seen.length,
      (n) => n >= 30,
    );
    expect(calls).toBe(0);
  });
});
