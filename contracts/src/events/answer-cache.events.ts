import { z } from 'zod';
import { defineEvent } from './define-event';

/**
 * A turn answered from the tenant's answer cache: the same normalised FAQ question was answered in
 * `sourceTurnId` of `sourceConversationId` under the same knowledge base, so no model was called. The
 * reply itself follows as `conversation.reply-completed.v2` (backend `answer-cache`), appended with
 * this event, so the turn replays exactly without the cache.
 */
export const AnswerCacheHit = defineEvent(
  'conversation',
  'conversation.answer-cache-hit',
  1,
  z
    .object({
      turnId: z.uuid(),
      sourceConversationId: z.uuid(),
      sourceTurnId: z.uuid(),
      /** The SHA-256 of the tenant, the system message and the normalised question (never the words). */
      cacheKey: z.string().regex(/^[0-9a-f]{64}$/),
    })
    .strict(),
  'A reply was served from the tenant answer cache instead of the model.',
);
