/**
 * The test kit: what every context's specs share. API specs (given streams, when a request, then a response and
 * exactly the new events), decider and projection specs, a real server on a free port with a client that checks
 * every response against the OpenAPI document, engine helpers, and the contract suite of each port.
 */
export * from './app';
export { registerTestServer } from './server-registry';
export * from './api-spec';
export * from './decider-spec';
export * from './projection-spec';
export * from './directory-world';
export * from './signed-in';
export * from './engines';
export * from './openapi';
export * from './openapi-arbitraries';
export * from './contracts/event-store.contract';
export * from './contracts/message-bus.contract';
export * from './contracts/read-store.contract';
export * from './mailpit';
export * from './contracts/mailer.contract';
