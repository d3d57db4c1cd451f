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

/**
 * The in-process message bus: the embedded default when Purser runs as one process.
 *
 * Messages live in memory only, in an {@link InProcessBroker}: append-only partitions per topic (a message's
 * partition is a hash of its key, so messages with the same key keep their order), and one committed offset
 * per consumer group and partition. Nothing here survives a restart, and that is by design: the durable facts
 * live in the event store, and publishers are relays driven from the event store with checkpoints, so a
 * message lost with the process is published again by its relay after the restart; nothing that was
 * acknowledged is lost.
 *
 * Delivery follows the MessageBus contract (libs/testkit/src/contracts/message-bus.contract.ts), like the Kafka adapter:
 * each consumer group sees every message once (at least once when a handler is interrupted); a batch's
 * offsets are committed only after the handler has finished with it; a throwing handler is retried with
 * exponential backoff, then the batch is parked on the dead-letter topic; rejected messages are parked with
 * their reason. Delivery is always asynchronous: a handler never runs inside `publish`.
 *
 * Several buses may share one broker (pass `broker`): they then see the same topics and group offsets, like
 * several clients of one Kafka cluster. The members of one group share its partitions.
 */
export interface InProcessBusOptions {
  /** The broker holding topics and group offsets. Default: a new one, private to this bus. */
  broker?: InProcessBroker;
  /** Partitions per topic when the bus creates the broker. Default 3. */
  partitions?: number;
  /** Largest batch handed to a handler at once. Default 100. */
  maxBatchSize?: number;
  /** Where retries and parked messages are reported. Default: pino at level warn. */
  logger?: InProcessBusLogger;
}

/** The logger methods the bus uses (a pino logger fits). */
export interface InProcessBusLogger {
  warn(obj: object, msg: string): void;
  error(obj: object, msg: string): void;
}

/** A stored message: the value is kept serialized, so every delivery gets its own copy. */
interface StoredMessage {
  key: string | null;
  /** The value as published: JSON text, or raw text from {@link InProcessBus.publishRaw}. */
  value: string;
  headers: Record<string, string>;
}

type Handler = (batch: ConsumedMessage[]) => Promise<BatchOutcome | void>;

/** Retry backoffs double up to this. */
const MAX_BACKOFF_MS = 60_000;

/** Topics and consumer-group offsets, in memory. Share one between buses to make them see the same messages. */
export class InProcessBroker {
  private readonly topics = new Map<
    string,
    { partitions: StoredMessage[][]; nextNullKeyPartition: number }
  >();
  private readonly groups = new Map<string, ConsumerGroup>();

  constructor(readonly partitionCount = 3) {
    if (!Number.isInteger(partitionCount) || partitionCount < 1) {
      throw new RangeError(`partitionCount must be a positive integer, got ${partitionCount}`);
    }
  }

  /** The partitions of a topic (created empty on first use). */
  partitions(topic: string): StoredMessage[][] {
    return this.topic(topic).partitions;
  }

  /** Appends messages to a topic and wakes that topic's consumer groups (asynchronously). */
  append(topic: string, messages: StoredMessage[]): void {
    if (messages.length === 0) return;
    const t = this.topic(topic);
    for (const message of messages) {
      let p: number;
      if (message.key === null) {
        p = t.nextNullKeyPartition;
        t.nextNullKeyPartition = (p + 1) % this.partitionCount;
      } else {
        p = partitionForKey(message.key, this.partitionCount);
      }
      t.partitions[p].push(message);
    }
    for (const group of this.groups.values()) if (group.topic === topic) group.wake();
  }

  /** The group's state for a topic, created when first asked for. */
  group(topic: string, groupId: string, fromBeginning: boolean): ConsumerGroup {
    const id = `${topic}\u0000${groupId}`;
    let group = this.groups.get(id);
    if (!group) {
      const partitions = this.partitions(topic);
      const committed = partitions.map((log) => (fromBeginning ? 0 : log.length));
      group = new ConsumerGroup(topic, groupId, partitions, committed);
      this.groups.set(id, group);
    }
    return group;
  }

  private topic(name: string) {
    let t = this.topics.get(name);
    if (!t) {
      t = { partitions: Array.from({ length: this.partitionCount }, () => []), nextNullKeyPartition: 0 };
      this.topics.set(name, t);
    }
    return t;
  }
}

/**
 * One consumer group on one topic: its committed offsets (next offset to deliver, per partition) and its
 * live members. Partition p belongs to member p % members.length; a partition with a batch in flight is
 * not handed to anyone else until that batch is finished, so a membership change never delivers one
 * message to two members at once.
 */
class ConsumerGroup {
  readonly members: Member[] = [];
  /** Partitions with a batch in flight. */
  readonly busy = new Set<number>();
  private wakeScheduled = false;

  constructor(
    readonly topic: string,
    readonly groupId: string,
    readonly log: StoredMessage[][],
    readonly committed: number[],
  ) {}

  /** Wakes idle members on a later turn of the event loop (never inside the caller's stack). */
  wake(): void {
    if (this.wakeScheduled) return;
    this.wakeScheduled = true;
    setImmediate(() => {
      this.wakeScheduled = false;
      for (const member of this.members) member.wake();
    });
  }

  /** The next partition this member should serve, starting after the one it served last (fairness). */
  nextPartitionFor(member: Member): number | undefined {
    const index = this.members.indexOf(member);
    if (index < 0) return undefined;
    const n = this.log.length;
    for (let i = 1; i <= n; i++) {
      const p = (member.lastPartition + i) % n;
      if (p % this.members.length !== index || this.busy.has(p)) continue;
      if (this.committed[p] < this.log[p].length) return p;
    }
    return undefined;
  }
}

interface Member {
  stopping: boolean;
  lastPartition: number;
  /** Resolves the member's current idle wait, if any. */
  wake(): void;
}

export class InProcessBus implements MessageBus {
  readonly name = 'in-process';
  readonly broker: InProcessBroker;
  private readonly maxBatchSize: number;
  private readonly logger: InProcessBusLogger;
  private readonly consumers = new Set<Consumer>();
  private closed = false;

  constructor(options: InProcessBusOptions = {}) {
    this.broker = options.broker ?? new InProcessBroker(options.partitions ?? 3);
    this.maxBatchSize = options.maxBatchSize ?? 100;
    this.logger = options.logger ?? pino({ name: 'in-process-bus', level: 'warn' });
  }

  /** Appends JSON-serialized messages. All or nothing: a value JSON cannot serialize rejects the whole call. */
  async publish(topic: string, messages: OutgoingMessage[]): Promise<void> {
    this.assertOpen();
    const stored = messages.map((m) => ({
      key: m.key ?? null,
      value: JSON.stringify(m.value ?? null),
      headers: { ...(m.headers ?? {}) },
    }));
    this.broker.append(topic, stored);
  }

  /**
   * Appends values exactly as given, without JSON serialization: for payloads received from elsewhere that
   * are not (or not known to be) JSON. Consumers see them with `raw` set when they are not valid JSON.
   */
  async publishRaw(
    topic: string,
    messages: Array<{ key: string | null; raw: string; headers?: Record<string, string> }>,
  ): Promise<void> {
    this.assertOpen();
    this.broker.append(
      topic,
      messages.map((m) => ({ key: m.key, value: m.raw, headers: { ...(m.headers ?? {}) } })),
    );
  }

  async subscribe(options: ConsumerOptions, handler: Handler): Promise<Consumer> {
    this.assertOpen();
    const group = this.broker.group(options.topic, options.groupId, options.fromBeginning ?? true);
    let wakeIdle: (() => void) | undefined;
    let wakeSleep: (() => void) | undefined;
    const member: Member = {
      stopping: false,
      lastPartition: -1,
      wake: () => {
        const w = wakeIdle;
        wakeIdle = undefined;
        w?.();
      },
    };
    /** Waits for a wake-up: new messages, a freed partition, a membership change, or stop. */
    const idle = () => new Promise<void>((resolve) => (wakeIdle = resolve));
    /** Waits ms, or less when the member is stopped (new messages do not cut a backoff short). */
    const sleep = (ms: number) =>
      new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, ms);
        wakeSleep = () => {
          clearTimeout(timer);
          resolve();
        };
      }).finally(() => (wakeSleep = undefined));

    group.members.push(member);
    group.wake(); // the partitions were redistributed

    const loop = (async () => {
      while (!member.stopping) {
        const p = group.nextPartitionFor(member);
        if (p === undefined) {
          await idle();
          continue;
        }
        member.lastPartition = p;
        group.busy.add(p);
        try {
          await this.deliver(group, p, options, handler, member, sleep);
        } catch (err) {
          // Only a bug in the bus gets here (handler errors are retried and parked); nothing was committed.
          this.logger.error(
            { err, topic: group.topic, groupId: group.groupId, partition: p },
            'delivery failed',
          );
          await sleep(options.retryBackoffMs ?? 100); // no busy loop if it keeps failing
        } finally {
          group.busy.delete(p);
          group.wake();
        }
      }
    })();

    const consumer: Consumer = {
      stop: async () => {
        if (!member.stopping) {
          member.stopping = true;
          const i = group.members.indexOf(member);
          if (i >= 0) group.members.splice(i, 1);
          member.wake();
          wakeSleep?.();
        }
        await loop;
        this.consumers.delete(consumer);
        group.wake(); // the remaining members take over this member's partitions
      },
    };
    this.consumers.add(consumer);
    return consumer;
  }

  /** Stops every consumer of this bus (after their in-flight batches). A shared broker keeps its messages. */
  async close(): Promise<void> {
    this.closed = true;
    await Promise.all([...this.consumers].map((c) => c.stop()));
  }

  /** Delivers one batch of partition p, with retries, parking and commit. Returns without commit on stop. */
  private async deliver(
    group: ConsumerGroup,
    p: number,
    options: ConsumerOptions,
    handler: Handler,
    member: Member,
    sleep: (ms: number) => Promise<void>,
  ): Promise<void> {
    const from = group.committed[p];
    const stored = group.log[p].slice(from, from + this.maxBatchSize);
    /** Each attempt gets fresh copies, so a handler that mutated its batch does not see its own changes. */
    const decodeBatch = () => stored.map((m, i) => decode(group.topic, p, from + i, m));
    let batch = decodeBatch();
    const maxRetries = options.maxRetries ?? 3;
    const backoffMs = options.retryBackoffMs ?? 100;

    let rejected: Rejection[];
    for (let attempt = 0; ; attempt++) {
      try {
        if (attempt > 0) batch = decodeBatch();
        const outcome = await handler(batch);
        rejected = outcome?.rejected ?? [];
        break;
      } catch (err) {
        const reason = errorMessage(err);
        if (attempt >= maxRetries) {
          this.logger.warn(
            {
              topic: group.topic,
              groupId: group.groupId,
              partition: p,
              from,
              count: batch.length,
              attempts: attempt + 1,
              reason,
            },
            'batch handler kept failing; parking the batch on the dead-letter topic',
          );
          rejected = batch.map((message) => ({ message, reason }));
          break;
        }
        const delay = Math.min(backoffMs * 2 ** attempt, MAX_BACKOFF_MS);
        this.logger.warn(
          {
            topic: group.topic,
            groupId: group.groupId,
            partition: p,
            from,
            attempt: attempt + 1,
            delay,
            reason,
          },
          'batch handler failed; retrying',
        );
        if (member.stopping) return; // stopped: nothing is committed, the batch is delivered again later
        await sleep(delay);
        if (member.stopping) return;
      }
    }

    const byOffset = new Map(batch.map((m, i) => [m.offset, i]));
    const parked: StoredMessage[] = [];
    for (const { message, reason } of rejected) {
      const i = byOffset.get(message.offset);
      if (i === undefined || message.partition !== p || message.topic !== group.topic) {
        this.logger.warn(
          { topic: message.topic, offset: message.offset },
          'rejection of a message not in the batch ignored',
        );
        continue;
      }
      byOffset.delete(message.offset); // park each message once
      const original = stored[i];
      parked.push({
        key: original.key,
        value: original.value,
        headers: {
          ...original.headers,
          [DLQ_REASON_HEADER]: reason,
          [DLQ_SOURCE_HEADER]: `${group.topic}/${p}/${message.offset}`,
        },
      });
    }
    if (parked.length > 0) {
      this.broker.append(options.deadLetterTopic ?? `${options.topic}.dlq`, parked);
    }
    group.committed[p] = from + stored.length;
  }

  private assertOpen(): void {
    if (this.closed) throw new Error('InProcessBus is closed');
  }
}

function decode(topic: string, partition: number, offset: number, m: StoredMessage): ConsumedMessage {
  const base = { topic, partition, offset: String(offset), key: m.key, headers: { ...m.headers } };
  try {
    return { ...base, value: JSON.parse(m.value) };
  } catch {
    return { ...base, value: undefined, raw: m.value };
  }
}

function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message || err.name : String(err);
}

/** FNV-1a over the key's UTF-8 bytes: stable across runs, so a key always maps to the same partition. */
function partitionForKey(key: string, partitions: number): number {
  let h = 0x811c9dc5;
  for (const byte of Buffer.from(key, 'utf8')) {
    h ^= byte;
    h = Math.imul(h, 0x01000193);
  }
  return (h >>> 0) % partitions;
}
