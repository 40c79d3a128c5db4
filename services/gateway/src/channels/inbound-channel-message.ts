import { timingSafeEqual } from 'node:crypto';

/**
 * One platform's delivery, parsed and verified, in the one shape every channel shares. It is recorded as
 * the ordinary `conversation.message-received.v1` of the chat's conversation: nothing downstream knows
 * or cares which platform a message came from.
 */
export interface InboundChannelMessage {
  readonly connectorId: string;
  readonly platform: 'feishu' | 'telegram';
  /** The platform's id of this delivery (Feishu event_id, Telegram update_id): replays repeat it. */
  readonly deliveryId: string;
  /** The chat the reply goes back to. */
  readonly chatId: string;
  readonly senderId: string;
  readonly text: string;
  /** When the platform says the message was sent, ms since the epoch. */
  readonly sentAtMs: number;
}

/** What a verified delivery asks of us. */
export type WebhookOutcome =
  | { kind: 'message'; message: InboundChannelMessage }
  /** Feishu's URL verification: answer the challenge. */
  | { kind: 'challenge'; challenge: string }
  /** A genuine delivery of something we do not handle (another event type, a sticker...). */
  | { kind: 'ignored'; reason: string };

/** Equal strings in time independent of where they differ (and of the expected value's content). */
export function constantTimeEqual(received: string, expected: string): boolean {
  const a = Buffer.from(received, 'utf8');
  const b = Buffer.from(expected, 'utf8');
  // Compare against itself when lengths differ, so the time does not reveal the expected length either.
  return a.length === b.length ? timingSafeEqual(a, b) : !timingSafeEqual(b, b);
}
