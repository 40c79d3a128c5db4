import { z } from 'zod';
import { RoleSchema } from '../roles';
import { defineEvent } from './define-event';

/**
 * A tenant's access stream (issue 10): what people and keys were refused, and every read of raw
 * (unredacted) data. Events like any other, so they reach the tenant's audit log through read-all and
 * are proven like every conversation event.
 */
export const ACCESS_STREAM = 'access';

const Who = {
  /** The API key's id (never the key). */
  keyId: z.uuid(),
  role: RoleSchema,
};

export const AccessDenied = defineEvent(
  'access',
  'access.denied',
  1,
  z
    .object({
      ...Who,
      method: z.string().min(1).max(16),
      /** The route's pattern (`/v1/conversations/:id/messages`), never a URL with its values. */
      route: z.string().min(1).max(200),
      /** The roles the route admits. */
      allowed: z.array(RoleSchema).min(1),
    })
    .strict(),
  'A key called a route its role does not admit; the request did nothing.',
);

export const RawDataRead = defineEvent(
  'access',
  'access.raw-data-read',
  1,
  z
    .object({
      ...Who,
      /** What was read unredacted: the route and its filters (conversation, time range...). */
      route: z.string().min(1).max(200),
      scope: z.record(z.string(), z.union([z.string().max(200), z.number(), z.null()])),
    })
    .strict(),
  'A person read personal data without redaction (the compliance role); the read itself is audited.',
);
