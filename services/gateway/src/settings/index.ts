export * from './settings.controller';
export { GetSettingsHandler } from './get-settings';
export { ReplaceIntentsHandler } from './replace-intents';
export { ReplaceLimitsHandler } from './replace-limits';
