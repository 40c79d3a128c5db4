export * from './model-backends';
export * from './canary-split';
export * from './canary-split-file';
