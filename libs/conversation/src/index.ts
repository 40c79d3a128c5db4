export * from './conversation.machine';
export * from './conversation.state';
export * from './conversation.decider';
export * from './generation';
export * from './ids';
export * from './model-task';
