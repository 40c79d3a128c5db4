export * from './data-source';
export * from './event-store';
export * from './outbox-reader';
export * from './inbox.repository';
export * from './tenant.repository';
export * from './conversation-streams';
