export * from './agent-messages.commands';
export * from './agent-messages.handler';
