export * from './rate-limit-counters';
export * from './rate-limit-policy';
export * from './request-rate-limit.interceptor';
export * from './token-estimate';
