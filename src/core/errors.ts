/**
 * The domain errors. Every failure a caller can act on is one of these, with a string code; the adapters map
 * the code once (MCP tool error, HTTP status, CLI exit code) and never inspect messages.
 */
export const ERROR_CODES = {
  VALIDATION: { http: 400, exit: 2 },
  NOT_FOUND: { http: 404, exit: 3 },
  AMBIGUOUS: { http: 400, exit: 2 },
  PERMISSION_DENIED: { http: 403, exit: 4 },
  CONFLICT: { http: 409, exit: 5 },
  INVALID_TRANSITION: { http: 409, exit: 5 },
  TASK_ALREADY_CLAIMED: { http: 409, exit: 5 },
  VERSION_CONFLICT: { http: 409, exit: 5 },
  SCHEMA_TOO_NEW: { http: 500, exit: 6 },
  STORE_UNAVAILABLE: { http: 503, exit: 6 },
  /** Over HTTP: no bearer token, or one that is malformed, unknown or revoked. */
  UNAUTHENTICATED: { http: 401, exit: 4 },
  /** Over HTTP: the caller's token has used up its request budget for now (`retry_after_seconds`). */
  RATE_LIMITED: { http: 429, exit: 7 },
  /** Over HTTP: a request body larger than the server accepts. */
  PAYLOAD_TOO_LARGE: { http: 413, exit: 2 },
} as const;

export type ErrorCode = keyof typeof ERROR_CODES;

export class TeamTableError extends Error {
  constructor(
    readonly code: ErrorCode,
    message: string,
    /** Structured facts a caller may use (the field at fault, the current state …). */
    readonly details: Record<string, unknown> = {},
  ) {
    super(message);
    this.name = 'TeamTableError';
  }

  get httpStatus(): number {
    return ERROR_CODES[this.code].http;
  }

  get exitCode(): number {
    return ERROR_CODES[this.code].exit;
  }
}

export const validation = (field: string, expected: string, details: Record<string, unknown> = {}) =>
  new TeamTableError('VALIDATION', `${field}: ${expected}`, { field, ...details });

export const notFound = (what: string, id: string, hint?: string) =>
  new TeamTableError('NOT_FOUND', `${what} '${id}' not found${hint ? `; ${hint}` : ''}`, { what, id });

export const denied = (message: string, details: Record<string, unknown> = {}) =>
  new TeamTableError('PERMISSION_DENIED', message, details);

export const conflict = (message: string, details: Record<string, unknown> = {}) =>
  new TeamTableError('CONFLICT', message, details);
