export * from './record-event.handler';
