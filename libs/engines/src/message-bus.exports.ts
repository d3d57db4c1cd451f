export { InProcessBroker, InProcessBus } from './inproc/in-process-bus';
export type { InProcessBusLogger, InProcessBusOptions } from './inproc/in-process-bus';
// Types only: the Kafka adapter (and kafkajs) load when imported from '@purser/engines/kafka/kafka-bus'.
export type { KafkaBus, KafkaBusLogger, KafkaBusOptions } from './kafka/kafka-bus';
