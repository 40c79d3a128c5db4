export * from './get-content-filter.handler';
