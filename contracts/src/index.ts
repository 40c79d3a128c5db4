export * from './envelope';
export * from './events';
export * from './topics';
export * from './parse';
export * from './upcast';
export * from './json-schema';
export * from './errors';
export * from './ws-frames';
