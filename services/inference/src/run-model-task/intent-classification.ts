import type { IntentDefinition, ModelTaskInput, ModelTaskResult } from '@contracts';
import type { ChatMessage, CompleteOptions } from '../llm.client';
import type { IntentRanking } from '@libs/intents';
import { intentPrompt, intentSchema, slotPrompt, slotSchema } from './task-prompts';

/**
 * The classifier's and extractor's model side, shared by the handler and the evaluation
 * (bench/intents), so the figures measured are those of the code that runs: what the model is asked,
 * and what is recorded when the model decides (the fast path's policy is in @libs/intents).
 */

type ExtractSlots = Extract<ModelTaskInput, { kind: 'extract-slots' }>;
type IntentResult = Extract<ModelTaskResult, { kind: 'classify-intent' }>;

const INTENT_MAX_TOKENS = 32;
const SLOTS_MAX_TOKENS = 256;

export interface ModelRequest {
  messages: ChatMessage[];
  options: CompleteOptions;
}

/** The model's question, its output constrained to the labels by the server's grammar. */
export function intentRequest(intents: readonly IntentDefinition[], text: string): ModelRequest {
  return {
    messages: intentPrompt(intents, text),
    options: {
      maxTokens: INTENT_MAX_TOKENS,
      jsonSchema: intentSchema(intents.map((intent) => intent.name)),
      temperature: 0,
    },
  };
}

/**
 * The model gives no calibrated probability: the confidence recorded is how much the embeddings agree
 * with its label (0 when the label has no examples), the candidates the embeddings' ranking.
 */
export function modelResult(label: string, ranking: IntentRanking | null): IntentResult {
  const agreement =
    ranking === null
      ? 0
      : label === ranking.label
        ? ranking.confidence
        : (ranking.candidates.find((candidate) => candidate.label === label)?.score ?? 0);
  const candidates = ranking
    ? [{ label: ranking.label, score: ranking.confidence }, ...ranking.candidates]
        .filter((candidate) => candidate.label !== label)
        .slice(0, 5)
    : [];
  return { kind: 'classify-intent', label, confidence: agreement, path: 'llm', candidates };
}

export function slotRequest(task: ExtractSlots): ModelRequest {
  return {
    messages: slotPrompt(task),
    options: { maxTokens: SLOTS_MAX_TOKENS, jsonSchema: slotSchema(task), temperature: 0 },
  };
}
