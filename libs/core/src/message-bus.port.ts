export const MESSAGE_BUS = Symbol('MessageBus');

/** An integration message: a published fact other systems consume, or a fact they send in. JSON values only. */
export interface OutgoingMessage {
  key: string | null;
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
  message: ConsumedMessage;
  reason: string;
}

/** What a batch handler reports: messages it refused for good (parked on the dead-letter topic). */
export interface BatchOutcome {
  rejected?: Rejection[];
}

export interface ConsumerOptions {
  topic: string;
  groupId: string;
  /** Dead-letter topic; default `${topic}.dlq`. Parked messages carry header `x-purser-dlq-reason`. */
  deadLetterTopic?: string;
  /** How many times a throwing batch is retried before its messages are parked. Default 3. */
  maxRetries?: number;
  /** First retry delay in ms, doubled each retry. Default 100. */
  retryBackoffMs?: number;
  /** Start from the earliest offset when the group has none. Default true. */
  fromBeginning?: boolean;
}

export interface Consumer {
  stop(): Promise<void>;
}

/**
 * The message bus port. Delivery is at least once: an offset is committed only after the handler has
 * finished with its message (handled, or parked on the dead-letter topic with the reason). Messages with the
 * same key keep their order. All adapters pass test/contracts/message-bus.contract.ts.
 */
export interface MessageBus {
  readonly name: string;
  publish(topic: string, messages: OutgoingMessage[]): Promise<void>;
  subscribe(options: ConsumerOptions, handler: (batch: ConsumedMessage[]) => Promise<BatchOutcome | void>): Promise<Consumer>;
  close(): Promise<void>;
}

export const DLQ_REASON_HEADER = 'x-purser-dlq-reason';
export const DLQ_SOURCE_HEADER = 'x-purser-dlq-source';
