import { z } from 'zod';
import { ConversationErased, type ErasureReason } from '@contracts';
import type { Principal } from '@libs/event-store';

/** The request's body: why, and the tenant's own reference for the request (never personal data). */
export const EraseConversationBodySchema = z
  .object({
    reason: ConversationErased.data.shape.reason,
    reference: ConversationErased.data.shape.reference.optional(),
  })
  .strict();

export class EraseConversationCommand {
  constructor(
    readonly principal: Principal,
    readonly conversationId: string,
    readonly reason: ErasureReason,
    readonly reference: string | null,
  ) {}
}
