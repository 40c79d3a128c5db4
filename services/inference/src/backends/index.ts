export * from './model-backends';
