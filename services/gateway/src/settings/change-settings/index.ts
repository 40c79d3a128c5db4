export * from './change-settings';
