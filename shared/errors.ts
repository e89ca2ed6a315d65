import { Errors } from "moleculer";

/** The error codes of the contract's envelope table, with their HTTP status and default message. */
export const ERROR_CODES = {
  BAD_REQUEST: { status: 400, message: "The request is malformed" },
  UNAUTHORIZED: { status: 401, message: "Authentication is required" },
  FORBIDDEN: { status: 403, message: "You are not allowed to do this" },
  NOT_FOUND: { status: 404, message: "Not found" },
  GOAL_NOT_FOUND: { status: 404, message: "Goal not found" },
  ACTIVITY_NOT_FOUND: { status: 404, message: "Activity not found" },
  EMAIL_TAKEN: { status: 409, message: "An account with this email already exists" },
  GOAL_QUOTA_EXCEEDED: { status: 409, message: "Too many active goals" },
  GOAL_ARCHIVED: { status: 409, message: "The goal is archived; unarchive it first" },
  GOAL_ALREADY_COMPLETED: { status: 409, message: "The goal is already completed" },
  VERSION_CONFLICT: { status: 409, message: "The resource was changed by someone else" },
  PAYLOAD_TOO_LARGE: { status: 413, message: "The request body is too large" },
  UNSUPPORTED_MEDIA_TYPE: { status: 415, message: "The request body must be application/json" },
  VALIDATION_ERROR: { status: 422, message: "The request is invalid" },
  INVALID_GOAL_PATTERN: { status: 422, message: "The fields do not fit the goal's pattern" },
  INVALID_DATE_RANGE: { status: 422, message: "The dates are out of range" },
  IDEMPOTENCY_KEY_REUSED: { status: 422, message: "This Idempotency-Key was used with another body" },
  RATE_LIMITED: { status: 429, message: "Too many requests; retry later" },
  INTERNAL_ERROR: { status: 500, message: "Something went wrong on our side" },
  SERVICE_UNAVAILABLE: { status: 503, message: "A required service is unavailable; nothing was done" },
} as const;

export type ErrorCode = keyof typeof ERROR_CODES;

export interface ErrorDetail {
  path: string;
  message: string;
}

export interface ErrorData {
  details?: ErrorDetail[];
  retryAfterSeconds?: number;
}

/**
 * An error a user can cause or act on. It is a MoleculerError so that it crosses the transporter intact:
 * `type` carries the contract's code, `code` the HTTP status, `data` the details.
 */
export class AppError extends Errors.MoleculerError {
  constructor(code: ErrorCode, message?: string, data?: ErrorData) {
    super(message ?? ERROR_CODES[code].message, ERROR_CODES[code].status, code, data);
    this.name = "AppError";
  }
}

export function isErrorCode(value: unknown): value is ErrorCode {
  return typeof value === "string" && Object.hasOwn(ERROR_CODES, value);
}

export interface ErrorEnvelope {
  error: {
    code: ErrorCode;
    message: string;
    status: number;
    details?: ErrorDetail[];
    requestId: string;
  };
}

export function envelope(
  code: ErrorCode,
  message: string,
  requestId: string,
  details?: ErrorDetail[],
): ErrorEnvelope {
  const body: ErrorEnvelope = { error: { code, message, status: ERROR_CODES[code].status, requestId } };
  if (details && details.length > 0) body.error.details = details;
  return body;
}
