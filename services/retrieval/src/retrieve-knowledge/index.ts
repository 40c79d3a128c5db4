export * from './retrieve-knowledge.command';
export * from './retrieve-knowledge.handler';
