export * from './gateway-client';
export * from './gateway-error';
export * from './gateway-socket';
