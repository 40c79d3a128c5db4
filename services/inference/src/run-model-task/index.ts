export * from './run-model-task.command';
export * from './run-model-task.handler';
export * from './task-prompts';
