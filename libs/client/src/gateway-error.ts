import {
  ERROR_CATALOG,
  ProblemSchema,
  type ErrorCode,
  type Problem,
  type ServerFrameOfType,
} from '@contracts';

/**
 * An error the gateway answered: a problem+json response (`status`, `code`, the whole `problem`), or an
 * `error` frame on the WebSocket (its code's status). `code` is null only when the body was not a
 * problem at all (a proxy's HTML page, say); `body` then keeps what came.
 */
export class GatewayError extends Error {
  constructor(
    readonly status: number,
    readonly code: ErrorCode | null,
    readonly problem: Problem | null,
    readonly body: unknown,
    what: string,
  ) {
    const reason = problem?.detail ?? problem?.title ?? (typeof body === 'string' ? body.slice(0, 300) : '');
    super(`${what}: ${status}${code ? ` ${code}` : ''}${reason ? ` (${reason})` : ''}`);
    this.name = 'GatewayError';
  }

  /** Whether the same call may succeed later, from the error catalog (any 5xx when the code is unknown). */
  get retryable(): boolean {
    return this.code === null ? this.status >= 500 : ERROR_CATALOG[this.code].retryable;
  }

  static fromResponse(status: number, body: unknown, what: string): GatewayError {
    const problem = ProblemSchema.safeParse(body);
    return problem.success
      ? new GatewayError(status, problem.data.code, problem.data, body, what)
      : new GatewayError(status, null, null, body, what);
  }

  static fromFrame(frame: ServerFrameOfType<'error'>, what: string): GatewayError {
    const status = ERROR_CATALOG[frame.code].status;
    const problem: Problem = {
      type: `/problems/${frame.code}`,
      title: ERROR_CATALOG[frame.code].title,
      status,
      code: frame.code,
      detail: frame.detail,
    };
    return new GatewayError(status, frame.code, problem, frame, what);
  }
}

/** The gateway answered something outside its contract (a schema mismatch): a bug on one side. */
export class ContractViolationError extends Error {
  constructor(what: string, detail: string) {
    super(`${what}: the answer does not match the contract: ${detail}`);
    this.name = 'ContractViolationError';
  }
}
