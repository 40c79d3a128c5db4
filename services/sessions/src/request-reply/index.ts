export * from './request-reply.command';
export * from './request-reply.handler';
