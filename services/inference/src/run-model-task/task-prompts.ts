import type { IntentDefinition, ModelTaskInput } from '@contracts';
import { validateSlotValue } from '@libs/conversation';
import type { ChatMessage } from '../llm.client';

/**
 * The prompts and output schemas of the model tasks, and the checks on what comes back. Pure: the same
 * task gives the same prompt, so the server's prefix cache is reused and a result can be explained.
 */

type ExtractSlots = Extract<ModelTaskInput, { kind: 'extract-slots' }>;
type Summarize = Extract<ModelTaskInput, { kind: 'summarize' }>;
type SlotValue = string | number | null;

export interface JsonSchemaFormat {
  name: string;
  schema: Record<string, unknown>;
}

/** The model's output did not fit what was asked (bad JSON, a value of the wrong type). */
export class InvalidOutputError extends Error {}

export function intentPrompt(intents: readonly IntentDefinition[], text: string): ChatMessage[] {
  const labels = intents.map((intent) => `- ${intent.name}: ${intent.description}`).join('\n');
  return [
    {
      role: 'system',
      content:
        'You classify one customer-service message (Chinese or English) into exactly one intent.\n' +
        `Intents:\n${labels}\n` +
        'Answer with JSON: {"label": "<intent>"}.',
    },
    { role: 'user', content: text },
  ];
}

/** The output may only be one of the labels: the server's grammar enforces it. */
export function intentSchema(labels: readonly string[]): JsonSchemaFormat {
  return {
    name: 'intent',
    schema: {
      type: 'object',
      properties: { label: { type: 'string', enum: [...labels] } },
      required: ['label'],
      additionalProperties: false,
    },
  };
}

export function parseIntent(output: string, labels: readonly string[]): string {
  const parsed = parseJsonObject(output);
  const label = parsed['label'];
  if (typeof label !== 'string' || !labels.includes(label))
    throw new InvalidOutputError(`the model answered a label outside the set: ${JSON.stringify(label)}`);
  return label;
}

const SLOT_VALUE_SCHEMA: Record<ExtractSlots['slots'][number]['type'], Record<string, unknown>> = {
  order_id: { type: 'string', maxLength: 64 },
  phone: { type: 'string', maxLength: 32 },
  email: { type: 'string', maxLength: 254 },
  amount: { type: 'number' },
  date: { type: 'string', pattern: '^[0-9]{4}-[0-9]{2}-[0-9]{2}$' },
  text: { type: 'string', maxLength: 1_000 },
};

const SLOT_HINT: Record<ExtractSlots['slots'][number]['type'], string> = {
  order_id: 'an order number, exactly as written',
  phone: 'a phone number, digits as written',
  email: 'an e-mail address',
  amount: 'an amount of money, as a number',
  date: 'a date as YYYY-MM-DD',
  text: 'a short phrase in the customer’s words',
};

export function slotPrompt(task: ExtractSlots): ChatMessage[] {
  const fields = task.slots
    .map(
      (slot) => `- ${slot.name}: ${SLOT_HINT[slot.type]}${slot.description ? `. ${slot.description}` : ''}`,
    )
    .join('\n');
  return [
    {
      role: 'system',
      content:
        `You extract fields from a customer-service message about "${task.intent}".\n` +
        `Fields:\n${fields}\n` +
        'Use null for a field the message does not state; never guess. ' +
        `The message was sent at ${task.referenceTime}` +
        (task.locale ? ` (locale ${task.locale})` : '') +
        ': resolve relative dates such as "yesterday" or "昨天" against it. Answer with JSON only.',
    },
    { role: 'user', content: task.text },
  ];
}

/** Every slot is required in the output, and null when absent, so a missing key never means "unknown". */
export function slotSchema(task: ExtractSlots): JsonSchemaFormat {
  return {
    name: 'slots',
    schema: {
      type: 'object',
      properties: Object.fromEntries(
        task.slots.map((slot) => [slot.name, { anyOf: [SLOT_VALUE_SCHEMA[slot.type], { type: 'null' }] }]),
      ),
      required: task.slots.map((slot) => slot.name),
      additionalProperties: false,
    },
  };
}

/**
 * The slots as recorded: each asked-for slot with a value of its type, or null. Identifiers the customer
 * must have typed (order numbers, phones, e-mails) are kept only when the value is one whole identifier
 * (normalised: an order number in capitals, a phone's digits) that occurs in the text: a small model
 * invents plausible ones, or hands back words around it, and a wrong order number is worse than asking. A free-text value
 * is kept only when it is mostly the customer's words: a small model otherwise copies the prompt (the
 * reference time, the locale) or writes a reply of its own into the slot, and asking again beats acting on
 * a reason the customer never gave.
 */
export function parseSlots(output: string, task: ExtractSlots): Record<string, SlotValue> {
  const parsed = parseJsonObject(output);
  const squashed = squash(task.text);
  const slots: Record<string, SlotValue> = {};
  for (const slot of task.slots) {
    const value = parsed[slot.name] ?? null;
    if (value === null) {
      slots[slot.name] = null;
    } else if (slot.type === 'amount') {
      if (typeof value !== 'number' || !Number.isFinite(value))
        throw new InvalidOutputError(`slot ${slot.name}: not a number`);
      slots[slot.name] = value;
    } else {
      if (typeof value !== 'string') throw new InvalidOutputError(`slot ${slot.name}: not a string`);
      const trimmed = value.trim().slice(0, 1_000);
      if (slot.type === 'order_id' || slot.type === 'phone' || slot.type === 'email') {
        // One whole identifier, in its normal form, found in the text: not "Order E2026…" (words the
        // text also holds around it), not one the model made up.
        const checked = validateSlotValue(slot.type, trimmed, task.referenceTime);
        const found = checked.ok && squashed.includes(squash(String(checked.value)));
        slots[slot.name] = found ? checked.value : null;
        continue;
      }
      const unfounded = slot.type === 'text' && shareFromText(trimmed, task.text) < TEXT_SLOT_MIN_SHARE;
      slots[slot.name] = trimmed === '' || unfounded ? null : trimmed;
    }
  }
  return slots;
}

export const SUMMARY_MAX_CHARS = 8_000;

export function summaryPrompt(task: Summarize): ChatMessage[] {
  const transcript = task.transcript.map((entry) => `${entry.role}: ${entry.text}`).join('\n');
  return [
    {
      role: 'system',
      content:
        'Summarise this customer-service conversation for the agent who reads it next: what the customer ' +
        'wants, the facts they gave (order numbers, dates, amounts), what was answered and what is still ' +
        'open. At most 120 words, in the language of the conversation. Plain text.',
    },
    {
      role: 'user',
      content:
        (task.previousSummary ? `Summary so far:\n${task.previousSummary}\n\n` : '') +
        `Conversation:\n${transcript}`,
    },
  ];
}

export function parseSummary(output: string): string {
  const summary = output.trim();
  if (summary === '') throw new InvalidOutputError('the model wrote an empty summary');
  return summary.slice(0, SUMMARY_MAX_CHARS);
}

function parseJsonObject(output: string): Record<string, unknown> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(output);
  } catch {
    throw new InvalidOutputError(`the model's output is not JSON: ${output.slice(0, 200)}`);
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed))
    throw new InvalidOutputError('the model’s output is not a JSON object');
  return parsed as Record<string, unknown>;
}

/** How much of a free-text value must come from the message (see shareFromText). */
export const TEXT_SLOT_MIN_SHARE = 0.6;

/**
 * The share of a value's adjacent letter/digit pairs that also occur in the text (single characters for a
 * one-character value); case, spaces and punctuation aside. Pairs work for Chinese, which has no spaces,
 * and for English alike: "买错尺码了" in "我买错尺码了" is 1, a timestamp from the prompt is near 0.
 */
export function shareFromText(value: string, text: string): number {
  const units = (chars: string[]) =>
    chars.length < 2 ? chars : chars.slice(1).map((char, index) => `${chars[index]}${char}`);
  const letters = (input: string) => [...input.toLowerCase().replace(/[^\p{L}\p{N}]/gu, '')];
  const wanted = units(letters(value));
  if (wanted.length === 0) return 0;
  const available = new Set(units(letters(text)));
  return wanted.filter((unit) => available.has(unit)).length / wanted.length;
}

/** Case and separators do not matter when checking that an identifier was in the text. */
function squash(text: string): string {
  return text.toLowerCase().replace(/[\s\-_.()（）]/g, '');
}
