export * from './openai.controller';
export * from './openai-errors';
export * from './openai.schemas';
export * from './openai.openapi';
