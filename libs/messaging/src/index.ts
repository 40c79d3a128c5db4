export * from './dead-letter-redrive';
export * from './failure-kind';
export * from './kafka.client';
export * from './kafka.publisher';
export * from './kafka-event.server';
export * from './outbox.relay';
export * from './topic-admin';
export * from './partition-progress';
