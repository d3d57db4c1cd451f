import {
  Admin,
  EachBatchPayload,
  IHeaders,
  Kafka,
  KafkaMessage,
  logCreator,
  LogEntry,
  logLevel,
  Message,
  Partitioners,
  Producer,
} from 'kafkajs';
import pino from 'pino';
import {
  BatchOutcome,
  ConsumedMessage,
  Consumer,
  ConsumerOptions,
  DLQ_REASON_HEADER,
  DLQ_SOURCE_HEADER,
  MessageBus,
  OutgoingMessage,
  Rejection,
} from '@purser/core';

/** The logger methods the bus uses (a pino logger fits). */
export interface KafkaBusLogger {
  warn(obj: object, msg: string): void;
  error(obj: object, msg: string): void;
}

export interface KafkaBusOptions {
  /** Bootstrap brokers, as a list or a comma-separated string (`host:port,host:port`). */
  brokers: string[] | string;
  /** Client id sent to the brokers (shows in broker logs and quotas). Default `purser`. */
  clientId?: string;
  /** Partitions of the topics this bus creates. Default 3. */
  partitions?: number;
  /** Replication factor of the topics this bus creates. Default: the broker's `default.replication.factor`. */
  replicationFactor?: number;
  /** Connection timeout in ms. Default 3000. */
  connectionTimeoutMs?: number;
  /** Request timeout in ms. Default 30000. */
  requestTimeoutMs?: number;
  consumer?: {
    /** Group session timeout in ms (the broker bounds it by group.min/max.session.timeout.ms). Default 30000. */
    sessionTimeoutMs?: number;
    /** Heartbeat interval in ms, also during long batches and retry backoffs. Default 3000. */
    heartbeatIntervalMs?: number;
    /** How long the coordinator waits for members to rejoin during a rebalance. Default 60000. */
    rebalanceTimeoutMs?: number;
    /** Longest a fetch waits for new messages; it also bounds how long stop() waits for an idle consumer. Default 1000. */
    maxWaitTimeMs?: number;
  };
  /** Where kafkajs's warnings and errors and the bus's own retries and parkings go. Default: pino at level warn. */
  logger?: KafkaBusLogger;
}

type Handler = (batch: ConsumedMessage[]) => Promise<BatchOutcome | void>;

/** Retry backoffs double up to this. */
const MAX_BACKOFF_MS = 60_000;

/** Heartbeat errors that mean this member must rejoin its group (and may lose its partitions). */
const GENERATION_LOST = new Set(['REBALANCE_IN_PROGRESS', 'ILLEGAL_GENERATION', 'UNKNOWN_MEMBER_ID']);

/**
 * The MessageBus on Apache Kafka (kafkajs; tested against Kafka 4.x in KRaft mode).
 *
 * - Topics (and dead-letter topics) are created on first use with the admin client, with `partitions`
 *   partitions, so the brokers need not auto-create topics.
 * - Publishing waits for all in-sync replicas (`acks: -1`) with one request in flight per broker, so a retried
 *   send cannot reorder messages; values are JSON. Messages with the same key go to the same partition.
 * - Each `subscribe` is one kafkajs consumer in the group, consuming batches without auto-commit: an
 *   offset is committed only after the handler returned for its batch (or the batch was parked on the
 *   dead-letter topic, acknowledged by the brokers). It heartbeats while a handler runs and while it backs off.
 * - kafkajs logs go to `logger`, warnings and errors only; the transient protocol errors kafkajs retries
 *   by itself (coordinator moving, leader election, rebalance) are not logged.
 */
export class KafkaBus implements MessageBus {
  readonly name = 'kafka';
  private readonly kafka: Kafka;
  private readonly logger: KafkaBusLogger;
  private readonly partitions: number;
  private readonly replicationFactor: number | undefined;
  private readonly consumerConfig: Required<NonNullable<KafkaBusOptions['consumer']>>;
  private readonly topics = new Map<string, Promise<void>>();
  private readonly consumers = new Set<Consumer>();
  private producer?: Promise<Producer>;
  private admin?: Promise<Admin>;
  private closed = false;

  constructor(options: KafkaBusOptions) {
    const brokers = (Array.isArray(options.brokers) ? options.brokers : options.brokers.split(','))
      .map((b) => b.trim())
      .filter(Boolean);
    if (brokers.length === 0) throw new Error('KafkaBus needs at least one broker address');
    this.logger = options.logger ?? pino({ name: 'kafka-bus', level: 'warn' });
    this.partitions = options.partitions ?? 3;
    this.replicationFactor = options.replicationFactor;
    this.consumerConfig = {
      sessionTimeoutMs: options.consumer?.sessionTimeoutMs ?? 30000,
      heartbeatIntervalMs: options.consumer?.heartbeatIntervalMs ?? 3000,
      rebalanceTimeoutMs: options.consumer?.rebalanceTimeoutMs ?? 60000,
      maxWaitTimeMs: options.consumer?.maxWaitTimeMs ?? 1000,
    };
    this.kafka = new Kafka({
      clientId: options.clientId ?? 'purser',
      brokers,
      connectionTimeout: options.connectionTimeoutMs ?? 3000,
      requestTimeout: options.requestTimeoutMs ?? 30000,
      logLevel: logLevel.WARN,
      logCreator: quietLogCreator(this.logger),
    });
  }

  async publish(topic: string, messages: OutgoingMessage[]): Promise<void> {
    // Serialize first: a value JSON cannot serialize rejects the call before anything is sent.
    const records: Message[] = messages.map((m) => ({
      key: m.key,
      value: JSON.stringify(m.value ?? null),
      headers: m.headers ? { ...m.headers } : undefined,
    }));
    this.assertOpen();
    await this.send(topic, records);
  }

  /**
   * Publishes values exactly as given, without JSON serialization: for payloads received from elsewhere that
   * are not (or not known to be) JSON. Consumers see them with `raw` set when they are not valid JSON.
   */
  async publishRaw(
    topic: string,
    messages: Array<{ key: string | null; raw: string; headers?: Record<string, string> }>,
  ): Promise<void> {
    this.assertOpen();
    await this.send(
      topic,
      messages.map((m) => ({ key: m.key, value: m.raw, headers: m.headers ? { ...m.headers } : undefined })),
    );
  }

  async subscribe(options: ConsumerOptions, handler: Handler): Promise<Consumer> {
    this.assertOpen();
    await this.ensureTopic(options.topic);
    const cfg = this.consumerConfig;
    const kc = this.kafka.consumer({
      groupId: options.groupId,
      sessionTimeout: cfg.sessionTimeoutMs,
      heartbeatInterval: cfg.heartbeatIntervalMs,
      rebalanceTimeout: cfg.rebalanceTimeoutMs,
      maxWaitTimeInMs: cfg.maxWaitTimeMs,
      allowAutoTopicCreation: false,
    });
    const state = { stopping: false, interrupt: new Set<() => void>() };
    let stopped: Promise<void> | undefined;
    const consumer: Consumer = {
      stop: () =>
        (stopped ??= (async () => {
          state.stopping = true;
          for (const wake of state.interrupt) wake();
          // disconnect() waits for the batch in flight (which commits what it handled), then leaves the group.
          await kc.disconnect();
          this.consumers.delete(consumer);
        })()),
    };
    kc.on(kc.events.CRASH, (e) => {
      const { error, restart } = e.payload;
      this.logger[restart ? 'warn' : 'error'](
        { err: error, topic: options.topic, groupId: options.groupId, restart },
        restart ? 'consumer crashed; kafkajs restarts it' : 'consumer crashed and stopped',
      );
    });
    try {
      await kc.connect();
      await kc.subscribe({ topics: [options.topic], fromBeginning: options.fromBeginning ?? true });
      await kc.run({
        autoCommit: false,
        eachBatchAutoResolve: false,
        partitionsConsumedConcurrently: 1,
        eachBatch: (payload) => this.handleBatch(payload, options, handler, state),
      });
    } catch (err) {
      await kc.disconnect().catch(() => undefined);
      throw err;
    }
    this.consumers.add(consumer);
    if (this.closed) {
      // close() ran while this consumer was joining: it missed it.
      await consumer.stop();
      this.assertOpen();
    }
    return consumer;
  }

  /** Stops every consumer (after its batch in flight), then disconnects the producer and the admin client. */
  async close(): Promise<void> {
    this.closed = true;
    await Promise.all([...this.consumers].map((c) => c.stop()));
    const clients: Array<Promise<Producer | Admin> | undefined> = [this.producer, this.admin];
    this.producer = undefined;
    this.admin = undefined;
    await Promise.all(
      clients.map(async (client) => {
        if (!client) return;
        try {
          await (await client).disconnect();
        } catch {
          // a client that never connected has nothing to disconnect
        }
      }),
    );
  }

  private async handleBatch(
    payload: EachBatchPayload,
    options: ConsumerOptions,
    handler: Handler,
    state: { stopping: boolean; interrupt: Set<() => void> },
  ): Promise<void> {
    const { batch } = payload;
    /** Set when a heartbeat learns that the group is rebalancing: the partition may go to another member. */
    const generation = { lost: false };
    const stopped = () => state.stopping || generation.lost || !payload.isRunning() || payload.isStale();
    if (stopped() || batch.messages.length === 0) return;
    const { topic, partition } = batch;
    const maxRetries = options.maxRetries ?? 3;
    const backoffMs = options.retryBackoffMs ?? 100;
    const where = {
      topic,
      partition,
      groupId: options.groupId,
      from: batch.firstOffset(),
      count: batch.messages.length,
    };

    let rejected: Rejection[];
    for (let attempt = 0; ; attempt++) {
      // Fresh copies each attempt, so a handler that mutated its batch does not see its own changes.
      const messages = batch.messages.map((m) => decode(topic, partition, m));
      try {
        const outcome = await this.withHeartbeats(payload, generation, () => handler(messages));
        rejected = outcome?.rejected ?? [];
        break;
      } catch (err) {
        const reason = errorMessage(err);
        if (attempt >= maxRetries) {
          this.logger.warn(
            { ...where, attempts: attempt + 1, reason },
            'batch handler kept failing; parking the batch on the dead-letter topic',
          );
          rejected = messages.map((message) => ({ message, reason }));
          break;
        }
        const delay = Math.min(backoffMs * 2 ** attempt, MAX_BACKOFF_MS);
        this.logger.warn({ ...where, attempt: attempt + 1, delay, reason }, 'batch handler failed; retrying');
        if (stopped()) return; // nothing committed: the batch is delivered again, here or to another member
        await this.withHeartbeats(payload, generation, () => interruptibleSleep(delay, state.interrupt));
        if (stopped()) return;
      }
    }

    const byOffset = new Map(batch.messages.map((m) => [m.offset, m]));
    const parked: Message[] = [];
    for (const { message, reason } of rejected) {
      const original = byOffset.get(message.offset);
      if (!original || message.topic !== topic || message.partition !== partition) {
        this.logger.warn(
          { topic: message.topic, offset: message.offset },
          'rejection of a message not in the batch ignored',
        );
        continue;
      }
      byOffset.delete(message.offset); // park each message once
      parked.push({
        key: original.key,
        value: original.value,
        headers: {
          ...(original.headers ?? {}),
          [DLQ_REASON_HEADER]: reason,
          [DLQ_SOURCE_HEADER]: `${topic}/${partition}/${original.offset}`,
        },
      });
    }
    if (parked.length > 0) await this.send(options.deadLetterTopic ?? `${options.topic}.dlq`, parked);

    const last = batch.lastOffset();
    payload.resolveOffset(last);
    await payload.commitOffsetsIfNecessary({
      topics: [{ topic, partitions: [{ partition, offset: (BigInt(last) + 1n).toString() }] }],
    });
  }

  /**
   * Runs fn while heartbeating, so a long batch or backoff does not cost the consumer its partitions. A
   * heartbeat refused because the group is rebalancing marks the generation lost: a failing batch then stops
   * retrying, and a handled batch's commit fails, so the batch is delivered again after the rebalance.
   */
  private async withHeartbeats<T>(
    payload: EachBatchPayload,
    generation: { lost: boolean },
    fn: () => Promise<T>,
  ): Promise<T> {
    const timer = setInterval(() => {
      payload.heartbeat().catch((err: { type?: string }) => {
        if (err?.type && GENERATION_LOST.has(err.type)) generation.lost = true;
      });
    }, this.consumerConfig.heartbeatIntervalMs);
    try {
      return await fn();
    } finally {
      clearInterval(timer);
    }
  }

  /** Sends with acks from all in-sync replicas. Not guarded by close(): consumers park while they stop. */
  private async send(topic: string, messages: Message[]): Promise<void> {
    if (messages.length === 0) return;
    await this.ensureTopic(topic);
    const producer = await this.connectedProducer();
    await producer.send({ topic, acks: -1, messages });
  }

  private connectedProducer(): Promise<Producer> {
    this.producer ??= (async () => {
      const producer = this.kafka.producer({
        createPartitioner: Partitioners.DefaultPartitioner,
        allowAutoTopicCreation: false,
        idempotent: false,
        maxInFlightRequests: 1,
      });
      await producer.connect();
      return producer;
    })().catch((err) => {
      this.producer = undefined;
      throw err;
    });
    return this.producer;
  }

  private connectedAdmin(): Promise<Admin> {
    this.admin ??= (async () => {
      const admin = this.kafka.admin();
      await admin.connect();
      return admin;
    })().catch((err) => {
      this.admin = undefined;
      throw err;
    });
    return this.admin;
  }

  /** Creates the topic once per bus (a topic that already exists is fine). */
  private ensureTopic(topic: string): Promise<void> {
    let ready = this.topics.get(topic);
    if (!ready) {
      ready = (async () => {
        const admin = await this.connectedAdmin();
        await admin.createTopics({
          waitForLeaders: true,
          topics: [
            {
              topic,
              numPartitions: this.partitions,
              ...(this.replicationFactor === undefined ? {} : { replicationFactor: this.replicationFactor }),
            },
          ],
        });
      })().catch((err) => {
        this.topics.delete(topic);
        throw err;
      });
      this.topics.set(topic, ready);
    }
    return ready;
  }

  private assertOpen(): void {
    if (this.closed) throw new Error('KafkaBus is closed');
  }
}

function decode(topic: string, partition: number, m: KafkaMessage): ConsumedMessage {
  const base = {
    topic,
    partition,
    offset: m.offset,
    key: m.key === null ? null : m.key.toString('utf8'),
    headers: decodeHeaders(m.headers),
  };
  if (m.value === null) return { ...base, value: null };
  const text = m.value.toString('utf8');
  try {
    return { ...base, value: JSON.parse(text) };
  } catch {
    return { ...base, value: undefined, raw: text };
  }
}

/** Header values as strings; a header sent several times keeps its last value. */
function decodeHeaders(headers: IHeaders | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, v] of Object.entries(headers ?? {})) {
    const value = Array.isArray(v) ? v[v.length - 1] : v;
    if (value !== undefined) out[name] = value.toString();
  }
  return out;
}

function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message || err.name : String(err);
}

function interruptibleSleep(ms: number, interrupt: Set<() => void>): Promise<void> {
  return new Promise<void>((resolve) => {
    const wake = () => {
      clearTimeout(timer);
      interrupt.delete(wake);
      resolve();
    };
    const timer = setTimeout(wake, ms);
    interrupt.add(wake);
  });
}

/**
 * Protocol errors kafkajs logs at ERROR for each response although it retries them itself; when they
 * persist, kafkajs reports them again from the layer that gives up (and that is logged).
 */
const TRANSIENT_RESPONSE_ERRORS = new Set([
  'The group coordinator is not available',
  'This is not the correct coordinator for this group',
  "The coordinator is loading and hence can't process requests for this group",
  'There is no leader for this topic-partition as we are in the middle of a leadership election',
  'This server is not the leader for that topic-partition',
  'This server does not host this topic-partition',
  'The group is rebalancing, so a rejoin is needed',
  'Specified group generation id is not valid',
  'The coordinator is not aware of this member',
  'Topic with this name already exists',
  'Topic creation errors', // createTopics on a topic that exists (kafkajs returns false for it)
]);

/** Routes kafkajs logs to the logger: warnings and errors only, as structured fields. */
function quietLogCreator(logger: KafkaBusLogger): logCreator {
  return () =>
    ({ namespace, level, log }: LogEntry) => {
      const { message, timestamp: _timestamp, ...fields } = log;
      if (namespace === 'Connection' && TRANSIENT_RESPONSE_ERRORS.has(String(fields.error))) return;
      // Consumer crashes are logged by the bus's CRASH listener, with the topic and whether kafkajs restarts it.
      if (namespace === 'Consumer' && /^(Crash: |Restarting the consumer)/.test(message)) return;
      const entry = { kafkajs: namespace, ...fields };
      if (level === logLevel.ERROR) logger.error(entry, message);
      else if (level === logLevel.WARN) logger.warn(entry, message);
    };
}
