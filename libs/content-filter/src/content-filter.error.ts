/** Lists that cannot be built. Callers log the code and the category, never the words. */
export type ContentFilterErrorCode =
  'word-empty' | 'category-invalid' | 'category-without-action' | 'action-invalid';

export class ContentFilterError extends Error {
  constructor(
    readonly code: ContentFilterErrorCode,
    message: string,
    readonly details: Record<string, unknown> = {},
  ) {
    super(message);
    this.name = 'ContentFilterError';
  }
}
