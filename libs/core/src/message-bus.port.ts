export const MESSAGE_BUS = Symbol('MessageBus');

/** An integration message: a published fact other systems consume, or a fact they send in. JSON values only. */
export interface OutgoingMessage {
  /** Messages with the same key go to the same partition and keep their order. null: any partition. */
  key: string | null;
  /** Serialized with JSON.stringify, so no bigints (convert them to strings first); undefined is sent as null. */
  value: unknown;
  headers?: Record<string, string>;
}

export interface ConsumedMessage extends OutgoingMessage {
  topic: string;
  partition: number;
  /** Offset as a decimal string. */
  offset: string;
  /** The raw value when it was not valid JSON (value is then undefined). */
  raw?: string;
}

export interface Rejection {
  /** A message of the batch being handled (matched by topic, partition and offset). */
  message: ConsumedMessage;
  /** Why; carried by the parked message in header `x-purser-dlq-reason`. */
  reason: string;
}

/**
 * What a batch handler reports: messages it refused for good. They are parked on the dead-letter topic;
 * every other message of the batch counts as handled. Then the whole batch is committed.
 */
export interface BatchOutcome {
  rejected?: Rejection[];
}

export interface ConsumerOptions {
  topic: string;
  groupId: string;
  /**
   * Dead-letter topic; default `${topic}.dlq`. A parked message keeps its key, value bytes and headers, and
   * gains headers `x-purser-dlq-reason` (the reason) and `x-purser-dlq-source` (`topic/partition/offset`).
   */
  deadLetterTopic?: string;
  /**
   * How many times a throwing batch is retried before every message of it is parked, with the error's
   * message as the reason. Default 3.
   */
  maxRetries?: number;
  /** First retry delay in ms, doubled each retry (up to one minute). Default 100. */
  retryBackoffMs?: number;
  /** Start from the earliest offset when the group has none. Default true. */
  fromBeginning?: boolean;
}

export interface Consumer {
  /**
   * Stops consuming. Resolves once the batch in flight, if any, has finished and been committed; a batch
   * that is failing and waiting for its next retry is abandoned uncommitted (delivered again later).
   * Nothing is delivered to this consumer after it resolves. Leaves the group, so others take over.
   */
  stop(): Promise<void>;
}

/**
 * The message bus port. Delivery is at least once: an offset is committed only after the handler has
 * finished with its message (handled, or parked on the dead-letter topic with the reason). Messages with the
 * same key keep their order. Every consumer group sees every message (once, unless a consumer crashes or
 * its group rebalances mid-batch: handlers must be idempotent). A message whose value is not JSON is
 * delivered with `raw` set and never blocks its partition. All adapters pass
 * libs/testkit/src/contracts/message-bus.contract.ts.
 */
export interface MessageBus {
  readonly name: string;
  /**
   * Resolves once the bus holds the messages (Kafka: acknowledged by all in-sync replicas). Topics are
   * created on first use.
   */
  publish(topic: string, messages: OutgoingMessage[]): Promise<void>;
  /**
   * Joins the group and starts delivering. The handler gets batches of one partition at a time, never two
   * batches at once for one consumer. Members of one group share the topic's partitions.
   */
  subscribe(
    options: ConsumerOptions,
    handler: (batch: ConsumedMessage[]) => Promise<BatchOutcome | void>,
  ): Promise<Consumer>;
  /** Stops every consumer of this bus (see Consumer.stop) and releases its connections. */
  close(): Promise<void>;
}

export const DLQ_REASON_HEADER = 'x-purser-dlq-reason';
export const DLQ_SOURCE_HEADER = 'x-purser-dlq-source';
