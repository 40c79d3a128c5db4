/**
 * The model-task code other projects may run outside the service: the evaluation (bench/intents)
 * measures the classifier and the extractor with exactly the code the handler runs. Imported through
 * the `@services/inference/model-tasks` alias, never by a deep path.
 */
export { OpenAiCompatibleClient, type LlmClient } from './llm.client';
export { intentRequest, modelResult, slotRequest } from './run-model-task/intent-classification';
export { parseIntent, parseSlots } from './run-model-task/task-prompts';
