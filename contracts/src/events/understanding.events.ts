import { z } from 'zod';
import { LocaleSchema, TextSchema } from './conversation.events';
import { personal } from '../sealed-text';
import { defineEvent } from './define-event';

/**
 * Understanding a customer message: model work that sessions asks of inference (intent, slots,
 * summaries), and knowledge that retrieval finds. Every result is an event of the turn, so replay never
 * calls a model and an analyst sees why the bot did what it did.
 */

/** Names of intents and slots: lowercase slugs (`order_status`, `order_id`). */
export const SlugSchema = z.string().regex(/^[a-z][a-z0-9_]{0,62}$/, 'a lowercase slug');

export const SlotTypeSchema = z.enum(['order_id', 'phone', 'email', 'amount', 'date', 'text']);

const ModelTaskInputSchema = z.discriminatedUnion('kind', [
  z
    .object({
      /** Pick one of the tenant's intents (from the settings at the conversation's configVersion). */
      kind: z.literal('classify-intent'),
      text: personal(TextSchema.min(1).max(32 * 1024), 3 * 32 * 1024),
    })
    .strict(),
  z
    .object({
      /** Fill these slots from the text, as JSON checked against their types; absent values are null. */
      kind: z.literal('extract-slots'),
      text: personal(TextSchema.min(1).max(32 * 1024), 3 * 32 * 1024),
      intent: SlugSchema,
      slots: z
        .array(
          z
            .object({ name: SlugSchema, type: SlotTypeSchema, description: TextSchema.max(500).optional() })
            .strict(),
        )
        .min(1)
        .max(20),
      /** Relative dates ("昨天", "last Monday") resolve against this: the message's occurredAt, never a clock. */
      referenceTime: z.iso.datetime({ offset: true }),
      locale: LocaleSchema.nullable(),
    })
    .strict(),
  z
    .object({
      /** Fold older turns into a summary; slot values stay slots and are not only kept here. */
      kind: z.literal('summarize'),
      previousSummary: personal(TextSchema.max(8_000), 24_000).nullable(),
      transcript: z
        .array(
          z.object({ role: z.enum(['customer', 'assistant', 'agent']), text: personal(TextSchema) }).strict(),
        )
        .min(1),
      /** The last event whose content the summary covers. */
      coversUpToSequence: z.number().int().min(1),
    })
    .strict(),
]);
export type ModelTaskInput = z.infer<typeof ModelTaskInputSchema>;
export type ModelTaskKind = ModelTaskInput['kind'];

export const ModelTaskRequested = defineEvent(
  'conversation',
  'conversation.model-task-requested',
  1,
  z
    .object({
      /** Derived from what the task is about, so a redelivered trigger asks once. */
      taskId: z.uuid(),
      /** The customer message the task is about, when there is one. */
      messageId: z.uuid().nullable(),
      /** The tenant settings version (intents, examples, slots) the task runs under. */
      configVersion: z.number().int().min(0),
      task: ModelTaskInputSchema,
    })
    .strict(),
  'Sessions asked inference for model work (classify an intent, extract slots, summarise history).',
);

const ModelTaskResultSchema = z.discriminatedUnion('kind', [
  z
    .object({
      kind: z.literal('classify-intent'),
      label: SlugSchema,
      confidence: z.number().min(0).max(1),
      /** `fast`: nearest labelled examples on embeddings; `llm`: the model with output constrained to the labels. */
      path: z.enum(['fast', 'llm']),
      /** The runner-up labels with their scores, for analysts. */
      candidates: z.array(z.object({ label: SlugSchema, score: z.number() }).strict()).max(10),
    })
    .strict(),
  z
    .object({
      kind: z.literal('extract-slots'),
      /** Each requested slot: its value as found (normalised, e.g. an ISO date), or null when absent. */
      slots: z.record(SlugSchema, z.union([personal(TextSchema.max(1_000), 3_000), z.number(), z.null()])),
    })
    .strict(),
  z
    .object({
      kind: z.literal('summarize'),
      summary: personal(TextSchema.max(8_000), 24_000),
      coversUpToSequence: z.number().int().min(1),
    })
    .strict(),
]);
export type ModelTaskResult = z.infer<typeof ModelTaskResultSchema>;

export const ModelTaskCompleted = defineEvent(
  'conversation',
  'conversation.model-task-completed',
  1,
  z
    .object({
      taskId: z.uuid(),
      result: ModelTaskResultSchema,
      /** The model (or embeddings model, on the fast path) that produced the result. */
      model: TextSchema.max(200),
      timings: z.object({ totalMs: z.number().min(0) }).strict(),
    })
    .strict(),
  'Inference finished a model task; its result is what sessions decides on (and what replay uses).',
);

export const ModelTaskFailed = defineEvent(
  'conversation',
  'conversation.model-task-failed',
  1,
  z
    .object({
      taskId: z.uuid(),
      kind: z.enum(['classify-intent', 'extract-slots', 'summarize']),
      code: z.enum(['model-timeout', 'model-unavailable', 'model-error', 'invalid-output']),
      message: TextSchema.max(2_000),
    })
    .strict(),
  'Inference could not finish a model task; sessions goes on without it (e.g. intent `other`).',
);

export const CitationSchema = z
  .object({
    documentId: z.string().min(1).max(200),
    title: TextSchema.max(500),
    /** 0-based position of the chunk within its document. */
    chunkIndex: z.number().int().min(0),
    score: z.number(),
    text: TextSchema.max(4_000),
  })
  .strict();
export type Citation = z.infer<typeof CitationSchema>;

export const KnowledgeRetrieved = defineEvent(
  'conversation',
  'conversation.knowledge-retrieved',
  1,
  z
    .object({
      messageId: z.uuid(),
      query: personal(TextSchema.max(32 * 1024), 3 * 32 * 1024),
      /** Best first, at most 10 (hybrid: BM25 and vector ranks fused). */
      results: z.array(CitationSchema).max(10),
      /** Which backends could not answer (breaker open, timeout): the turn went on without them. */
      degraded: z.object({ keyword: z.boolean(), vector: z.boolean() }).strict(),
      timings: z.object({ totalMs: z.number().min(0) }).strict(),
    })
    .strict(),
  'Retrieval searched the tenant’s knowledge base for a customer message; the prompt cites these results.',
);
