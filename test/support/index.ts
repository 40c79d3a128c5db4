export * from './test-database';
export * from './service-processes';
export * from './gateway-client';
export * from './json-schemas';
