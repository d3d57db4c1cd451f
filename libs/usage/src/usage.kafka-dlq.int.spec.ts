import { randomUUID } from 'node:crypto';
import { ConsumedMessage, DLQ_REASON_HEADER, MESSAGE_BUS, MessageBus } from '@purser/core';
import { TestServer, startTestServer } from '@purser/testkit';
import { describeEngine, eventually, uniqueSuffix } from '@purser/testkit';

/**
 * Usage over Kafka (real broker; event store and read store embedded): given an event recorded from the usage
 * topic, when its eventId comes again with another payload, then it is parked on the dead-letter topic with the
 * reason and both fingerprints, and counted once.
 */
describeEngine('KAFKA_BROKERS', 'usage over Kafka: a replay with another payload', (brokers) => {
  const suffix = uniqueSuffix();
  const topic = `purser.usage.dlq.${suffix}`;
  let server: TestServer;
  let bus: MessageBus;
  let orgId: string;
  let userId: string;

  beforeAll(async () => {
    server = await startTestServer({
      env: {
        KAFKA_BROKERS: brokers,
        PURSER_USAGE_TOPIC: topic,
        MONGODB_URL: undefined,
        EVENTSTORE_URL: undefined,
      },
    });
    bus = server.app.get<MessageBus>(MESSAGE_BUS);
    const api = server.api;
    orgId = (
      await api.post('/v1/orgs', { name: `DLQ ${randomUUID()}`, baseCurrency: 'EUR', timeZone: 'UTC' })
    ).body.id;
    const teamId = (await api.post(`/v1/orgs/${orgId}/teams`, { name: 'Ops' })).body.id;
    userId = (
      await api.post(`/v1/orgs/${orgId}/users`, {
        username: `dlq-${randomUUID().slice(0, 8)}`,
        email: `${randomUUID()}@acme.test`,
        primaryTeamId: teamId,
      })
    ).body.id;
  }, 60_000);
  afterAll(async () => {
    await server?.stop();
    server?.cleanup();
  });

  it('given an event recorded from Kafka, when its eventId comes again with another amount, then the dead-letter topic gets it with both fingerprints and it counts once', async () => {
    const e = {
      eventId: `dup-${randomUUID()}`,
      orgId,
      userId,
      itemType: 'Agent',
      itemId: 'planner',
      amount: '0.5',
      currency: 'EUR',
      occurredAt: '2026-04-01T09:00:00Z',
    };
    const parked: ConsumedMessage[] = [];
    const reader = await bus.subscribe(
      { topic: `${topic}.dlq`, groupId: `dlq-reader-${suffix}` },
      async (batch) => {
        parked.push(...batch);
      },
    );
    try {
      // One key: one partition, so the replay is handled after the original.
      await bus.publish(topic, [
        { key: orgId, value: e },
        { key: orgId, value: { ...e, amount: '7' } },
      ]);
      await eventually(
        () => parked.length,
        (n) => n >= 1,
        { timeoutMs: 90_000, what: 'the replay on the dead-letter topic' },
      );
    } finally {
      await reader.stop();
    }
    expect(parked).toHaveLength(1);
    expect(parked[0].value).toEqual({ ...e, amount: '7' });
    expect(parked[0].headers?.[DLQ_REASON_HEADER]).toMatch(
      new RegExp(
        `eventId ${e.eventId} is already recorded with a different payload \\(fingerprint [0-9a-f]{64}, stored [0-9a-f]{64}\\)`,
      ),
    );
    // Over HTTP, the original is a duplicate at its position; the report counts it once, at its amount.
    const again = await server.api.post('/v1/usage', e);
    expect(again.body.status).toBe('duplicate');
    const rep = await server.api.get(
      `/v1/orgs/${orgId}/expenditure?from=2026-04-01&to=2026-04-02&minPosition=${again.body.position}`,
    );
    expect(rep.body.total).toMatchObject({ amounts: [{ amount: '0.5', currency: 'EUR' }], count: 1 });
  }, 120_000);
});
