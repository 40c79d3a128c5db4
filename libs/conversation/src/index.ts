export * from './conversation.machine';
export * from './conversation.state';
export * from './conversation.decider';
export * from './generation';
export * from './ids';
export * from './dialogue.decider';
export * from './slot-patterns';
export * from './timers';
