export * from './erase-conversation';
export * from './erasure.controller';
