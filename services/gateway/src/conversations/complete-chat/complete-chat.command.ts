/** Which conversation a chat completion belongs to. */
export type ChatConversation =
  /** X-Conversation-Id: this one, created on first use. */
  | { kind: 'named'; conversationId: string }
  /** The body's `user`: that user's current conversation. */
  | { kind: 'user'; user: string }
  /** Neither: a conversation of its own, closed once answered. */
  | { kind: 'one-turn' };

export class CompleteChatCommand {
  constructor(
    readonly tenantId: string,
    readonly conversation: ChatConversation,
    /** The last user message of the request: the customer's new message. */
    readonly text: string,
    /** From the Idempotency-Key header: a retried call records the message once and gets the same reply. */
    readonly idempotencyKey: string | null,
  ) {}
}
