import { z } from 'zod';
import { AppError } from '@contracts';

const Instant = z.iso.datetime({ offset: true }).transform((text) => new Date(text).toISOString());
const Flag = z.enum(['true', 'false']).transform((text) => text === 'true');

/** Which conversations: by when they started, intent, outcome, model and handoff. All optional. */
const FilterFields = {
  /** Started at or after (ISO instant). */
  from: Instant.optional(),
  /** Started before (ISO instant). */
  to: Instant.optional(),
  /** Had this intent at some point (classify-intent results). */
  intent: z.string().min(1).max(63).optional(),
  status: z.enum(['open', 'closed']).optional(),
  closedReason: z.string().min(1).max(63).optional(),
  /** A reply was written by this model. */
  model: z.string().min(1).max(200).optional(),
  handedOff: Flag.optional(),
};

export const ConversationFilterSchema = z.object(FilterFields).strict();
export type ConversationFilter = z.output<typeof ConversationFilterSchema>;

/** Where a page ends: the last row's (startedAt, conversationId), opaque to callers. */
export interface Cursor {
  startedAt: string;
  conversationId: string;
}

export function encodeCursor(cursor: Cursor): string {
  return Buffer.from(JSON.stringify([cursor.startedAt, cursor.conversationId])).toString('base64url');
}

const CursorSchema = z.tuple([z.iso.datetime({ offset: true }), z.string().min(1).max(200)]);

export function decodeCursor(text: string): Cursor {
  try {
    const [startedAt, conversationId] = CursorSchema.parse(
      JSON.parse(Buffer.from(text, 'base64url').toString()),
    );
    return { startedAt, conversationId };
  } catch {
    throw new AppError('validation-failed', '`after` is not a cursor this API gave out');
  }
}

export const ListQuerySchema = z
  .object({
    ...FilterFields,
    limit: z.coerce.number().int().min(1).max(500).default(100),
    /** `nextCursor` of the previous page. */
    after: z.string().min(1).max(500).optional(),
  })
  .strict();

export const ExportQuerySchema = z
  .object({ ...FilterFields, format: z.enum(['csv', 'jsonl']).default('jsonl') })
  .strict();

export const ReplayQuerySchema = z
  .object({
    /** Unredacted customer text: the compliance role only, and the read is logged. */
    raw: Flag.default(false),
  })
  .strict();
