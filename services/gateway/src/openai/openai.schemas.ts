import { z } from 'zod';
import { AppError, MAX_MESSAGE_BYTES } from '@contracts';
import { SendMessageHeaders } from '../conversations/conversations.schemas';

/** The one model the facade serves: the whole engine (sessions, knowledge, inference) behind one name. */
export const ENGINE_MODEL = { id: 'convo-engine', created: 1_764_547_200, owned_by: 'convo-engine' } as const;

const TextPartSchema = z.looseObject({ type: z.literal('text'), text: z.string() });
const OtherPartSchema = z.looseObject({ type: z.string() });

const ChatMessageSchema = z.looseObject({
  role: z.enum(['system', 'developer', 'user', 'assistant', 'tool', 'function']),
  content: z.union([z.string(), z.array(z.union([TextPartSchema, OtherPartSchema])), z.null()]).optional(),
});

/**
 * OpenAI's chat completion request, as far as the engine uses it. Other fields clients send
 * (temperature, tools, metadata...) are accepted and ignored: the tenant's settings decide them.
 */
export const ChatCompletionBody = z.looseObject({
  model: z.string().min(1).describe('`convo-engine` (GET /v1/models)'),
  messages: z
    .array(ChatMessageSchema)
    .min(1)
    .describe(
      'Only the last message is read, and it must be the user’s: it is the customer’s new message. ' +
        'Earlier messages are the client’s own copy of the history; the conversation has its own.',
    ),
  stream: z.boolean().nullish(),
  stream_options: z.looseObject({ include_usage: z.boolean().nullish() }).nullish(),
  user: z
    .string()
    .min(1)
    .max(256)
    .optional()
    .describe('Maps the call onto this user’s conversation (when no X-Conversation-Id is sent).'),
  max_tokens: z.number().int().min(1).nullish(),
  max_completion_tokens: z.number().int().min(1).nullish(),
  n: z.literal(1).nullish().describe('One choice only'),
});
export type ChatCompletionRequest = z.output<typeof ChatCompletionBody>;

/** Header names in lower case, as Node delivers them. */
export const ChatCompletionHeaders = z.object({
  'x-conversation-id': z
    .string()
    .optional()
    .describe(
      'The conversation this call continues (a UUID). Created on first use; another tenant’s id is a 404.',
    ),
  'idempotency-key': SendMessageHeaders.shape['idempotency-key'].describe(
    'A retried call with the same key records the message once and gets the same reply.',
  ),
});

/** The customer's new message: the last message's text, which must be the user's. */
export function newCustomerText(request: ChatCompletionRequest): string {
  const last = request.messages[request.messages.length - 1];
  if (!last || last.role !== 'user') {
    throw invalidMessages('the last message must be the user’s: it is the customer’s new message');
  }
  const text =
    typeof last.content === 'string'
      ? last.content
      : (last.content ?? [])
          .map((part) => (part.type === 'text' && typeof part.text === 'string' ? part.text : ''))
          .join('');
  if (text.trim() === '') throw invalidMessages('the last user message has no text');
  const bytes = Buffer.byteLength(text, 'utf8');
  if (bytes > MAX_MESSAGE_BYTES) {
    throw new AppError(
      'message-too-large',
      `the message is ${bytes} bytes; the limit is ${MAX_MESSAGE_BYTES}`,
      {
        errors: [{ path: 'messages', message: 'too large' }],
      },
    );
  }
  return text;
}

function invalidMessages(message: string): AppError {
  return new AppError('validation-failed', message, { errors: [{ path: 'messages', message }] });
}
