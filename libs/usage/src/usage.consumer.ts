import { Inject, Injectable, OnApplicationBootstrap, OnApplicationShutdown } from '@nestjs/common';
import { BatchOutcome, Clock, ConsumedMessage, Consumer, MESSAGE_BUS, MessageBus } from '@purser/core';
import { CLOCK, CONFIG, LOGGER, ProjectionHost, PurserConfig, PurserLogger } from '@purser/platform';
import { randomUUID } from 'node:crypto';
import { UsageIngest } from './ingest';

/** One consumer group per usage topic, so deployments (or test runs) on different topics never share a group. */
export const usageConsumerGroup = (topic: string) => `purser-usage-ingest.${topic}`;

/**
 * Consumes usage events from Kafka (topic purser.usage.v1 by default) in batches, through the same command path as
 * HTTP. Offsets are committed by the bus only after the batch is appended; refused or malformed messages are parked
 * on the dead-letter topic with their reason and never block the partition, and so is a message whose eventId is
 * already recorded with another payload (nothing new recorded; the reason names both fingerprints). Runs in the processes whose
 * PURSER_WORKER_TASKS list consumers (any number: the group shares the partitions).
 */
@Injectable()
export class UsageConsumer implements OnApplicationBootstrap, OnApplicationShutdown {
  private consumer: Consumer | null = null;

  constructor(
    private readonly ingest: UsageIngest,
    private readonly host: ProjectionHost,
    @Inject(MESSAGE_BUS) private readonly bus: MessageBus,
    @Inject(CONFIG) private readonly config: PurserConfig,
    @Inject(LOGGER) private readonly logger: PurserLogger,
    @Inject(CLOCK) private readonly clock: Clock,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    if (!this.host.runs('consumers') || !this.config.kafkaBrokers) return;
    this.consumer = await this.bus.subscribe(
      { topic: this.config.usageTopic, groupId: usageConsumerGroup(this.config.usageTopic), maxRetries: 5 },
      (batch) => this.handle(batch),
    );
    this.logger.info({ topic: this.config.usageTopic }, 'usage consumer started');
  }

  async handle(batch: ConsumedMessage[]): Promise<BatchOutcome> {
    const rejected: BatchOutcome['rejected'] = [];
    const valid: ConsumedMessage[] = [];
    for (const m of batch) {
      if (m.value === undefined) rejected.push({ message: m, reason: 'value is not valid JSON' });
      else valid.push(m);
    }
    if (valid.length) {
      const res = await this.ingest.record(
        valid.map((m) => m.value),
        {
          actor: { type: 'system', id: `kafka:${this.config.usageTopic}` },
          correlationId: randomUUID(),
          causationId: null,
          now: this.clock.nowIso(),
        },
      );
      res.results.forEach((r, i) => {
        if (r.status === 'rejected') rejected.push({ message: valid[i], reason: r.reason });
        // Counted once already: parked so that the producer learns its payload differed from the stored one.
        else if (r.status === 'conflict')
          rejected.push({
            message: valid[i],
            reason: `${r.reason} (fingerprint ${r.fingerprint}, stored ${r.storedFingerprint})`,
          });
      });
    }
    if (rejected.length)
      this.logger.warn(
        { parked: rejected.length, topic: this.config.usageTopic },
        'usage messages parked on the dead-letter topic',
      );
    return { rejected };
  }

  async onApplicationShutdown(): Promise<void> {
    await this.consumer?.stop();
  }
}
