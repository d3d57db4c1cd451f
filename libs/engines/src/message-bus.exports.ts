export { InProcessBroker, InProcessBus } from './inproc/in-process-bus';
export type { InProcessBusLogger, InProcessBusOptions } from './inproc/in-process-bus';
export { KafkaBus } from './kafka/kafka-bus';
export type { KafkaBusLogger, KafkaBusOptions } from './kafka/kafka-bus';
