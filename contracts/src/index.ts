export * from './envelope';
export * from './events';
export * from './topics';
export * from './parse';
export * from './json-schema';
export * from './errors';
export * from './views';
export * from './ws-frames';
