export * from './run-model-task.command';
export * from './run-model-task.handler';
export * from './intent-index';
export * from './task-prompts';
