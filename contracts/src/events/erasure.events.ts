import { z } from 'zod';
import { RoleSchema } from '../roles';
import { defineEvent } from './define-event';

/** Why a conversation's personal data was erased. */
export const ErasureReasonSchema = z.enum([
  /** The customer asked (PIPL art. 47, GDPR art. 17). */
  'data-subject-request',
  /** The tenant's retention period ran out. */
  'retention-expired',
  /** A legal or contractual obligation other than the two above. */
  'legal-obligation',
]);
export type ErasureReason = z.infer<typeof ErasureReasonSchema>;

export const ConversationErased = defineEvent(
  'conversation',
  'conversation.erased',
  1,
  z
    .object({
      /** Who erased it: the API key's id (never the key) and its role (compliance). */
      keyId: z.uuid(),
      role: RoleSchema,
      reason: ErasureReasonSchema,
      /**
       * The tenant's own reference for the request (a ticket id). Outlives the erasure, so it must not
       * hold personal data; a slug-like id is all it accepts.
       */
      reference: z
        .string()
        .regex(/^[A-Za-z0-9][A-Za-z0-9._:#/-]{0,127}$/, 'a ticket id: letters, digits and . _ : # / -')
        .nullable(),
    })
    .strict(),
  'The conversation’s data key was deleted (crypto-shredding): its personal text reads as [erased] ' +
    'everywhere from now on, while every audit proof still verifies. The conversation is closed.',
);
