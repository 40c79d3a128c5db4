export * from './model-dispatcher';
