export * from './generate-reply.command';
export * from './generate-reply.handler';
export * from './reply-chunker';
