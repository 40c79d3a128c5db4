import { AppError } from '@contracts';
import type { Tenant } from '@libs/event-store';
import { ConversationIdSchema } from './conversations.schemas';

export interface ConversationRef {
  tenantId: string;
  conversationId: string;
}

/** A malformed id names no conversation of this tenant: the same 404 as an unknown or foreign one. */
export function conversationRef(tenant: Tenant, conversationId: string): ConversationRef {
  if (!ConversationIdSchema.safeParse(conversationId).success) throw new AppError('conversation-not-found');
  return { tenantId: tenant.id, conversationId };
}

/** One string for a tenant's conversation, for in-memory maps (ids never hold a NUL). */
export function conversationKey(tenantId: string, conversationId: string): string {
  return `${tenantId}\u0000${conversationId}`;
}
