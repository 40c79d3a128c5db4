export * from './content-filter.error';
export * from './filter-entry';
export { ContentFilter, type FilterMatch, type FilterStats, type ScanResult } from './content-filter';
export * from './filter-stream';
export * from './filter-registry';
export { normaliseWord } from './text-normalizer';
export * from './filter-list-events';
export * from './filter-verdict';
