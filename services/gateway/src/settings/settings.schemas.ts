import { z } from 'zod';

/** Header names in lower case, as Node delivers them. */
export const ReplaceIntentsHeaders = z.object({
  'if-match': z
    .string()
    .regex(/^(?:W\/)?"(\d{1,15})"$/, 'an ETag of GET /v1/settings, e.g. "3"')
    .optional()
    .describe(
      'The ETag of the settings this change was made against (`"<version>"`, from GET /v1/settings). ' +
        'When the settings moved on since, the change is refused with 412 `precondition-failed`.',
    ),
});

/** The version an If-Match header names. */
export function versionOfEtag(etag: string): number {
  return Number(/"(\d+)"/.exec(etag)?.[1]);
}

export function etagOf(version: number): string {
  return `"${version}"`;
}
