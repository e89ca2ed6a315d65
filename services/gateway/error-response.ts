import {
  envelope,
  ERROR_CODES,
  type ErrorCode,
  type ErrorData,
  type ErrorEnvelope,
  isErrorCode,
} from "../../shared/errors.ts";

export interface ErrorResponse {
  status: number;
  body: ErrorEnvelope;
  headers: Record<string, string>;
  /** A failure of ours (not the client's): logged with its stack, never shown. */
  internal: boolean;
}

interface ErrorLike {
  name?: string;
  message?: string;
  type?: string;
  code?: number | string;
  status?: number;
  data?: unknown;
}

/** body-parser's error types, from the request body stage. */
const BODY_ERRORS: Record<string, [ErrorCode, string]> = {
  "entity.too.large": ["PAYLOAD_TOO_LARGE", "The request body is too large"],
  "entity.parse.failed": ["BAD_REQUEST", "The request body is not valid JSON"],
  "entity.verify.failed": ["BAD_REQUEST", "The request body is not valid JSON"],
  "request.aborted": ["BAD_REQUEST", "The request body was not received in full"],
  "request.size.invalid": ["BAD_REQUEST", "The request body does not match its Content-Length"],
  "charset.unsupported": ["UNSUPPORTED_MEDIA_TYPE", "The request body must be UTF-8 JSON"],
  "encoding.unsupported": ["UNSUPPORTED_MEDIA_TYPE", "The request body's Content-Encoding is not supported"],
};

/** Moleculer's own errors that mean "the service that would answer is not there or not answering". */
const UNAVAILABLE = new Set([
  "SERVICE_NOT_FOUND",
  "SERVICE_NOT_AVAILABLE",
  "REQUEST_TIMEOUT",
  "REQUEST_SKIPPED",
  "REQUEST_REJECTED",
  "QUEUE_FULL",
  "BROKER_NOT_STARTED",
  // The transporter is disconnected: the request was never sent.
  "BAD_GATEWAY",
]);

/**
 * The database driver's errors for a database it cannot reach (names survive the transporter): the
 * database is a required service that is down, which the contract answers with a 503, not a 500.
 */
const DATABASE_UNREACHABLE = new Set([
  "MongoServerSelectionError",
  "MongooseServerSelectionError",
  "MongoNetworkError",
  "MongoNetworkTimeoutError",
  "MongoNotConnectedError",
  "MongoTopologyClosedError",
]);

function classify(error: ErrorLike): { code: ErrorCode; message: string; data?: ErrorData } {
  if (isErrorCode(error.type) && error.type !== "INTERNAL_ERROR") {
    return {
      code: error.type,
      message: error.message || ERROR_CODES[error.type].message,
      data: error.data as ErrorData,
    };
  }
  const bodyError =
    error.type && Object.hasOwn(BODY_ERRORS, error.type) ? BODY_ERRORS[error.type] : undefined;
  if (bodyError) return { code: bodyError[0], message: bodyError[1] };
  if (error.type && UNAVAILABLE.has(error.type))
    return { code: "SERVICE_UNAVAILABLE", message: ERROR_CODES.SERVICE_UNAVAILABLE.message };
  if (error.name === "NotFoundError" || error.type === "NOT_FOUND")
    return { code: "NOT_FOUND", message: "No such route" };
  if (error.name && DATABASE_UNREACHABLE.has(error.name))
    return { code: "SERVICE_UNAVAILABLE", message: ERROR_CODES.SERVICE_UNAVAILABLE.message };
  if (error.name === "ServiceUnavailableError") {
    return { code: "SERVICE_UNAVAILABLE", message: ERROR_CODES.SERVICE_UNAVAILABLE.message };
  }
  return { code: "INTERNAL_ERROR", message: ERROR_CODES.INTERNAL_ERROR.message };
}

/** Turns any error into the contract's envelope: a known code keeps its message, anything else is hidden. */
export function toErrorResponse(error: unknown, requestId: string): ErrorResponse {
  const { code, message, data } = classify((error ?? {}) as ErrorLike);
  const headers: Record<string, string> = {};
  if (code === "RATE_LIMITED") headers["Retry-After"] = String(data?.retryAfterSeconds ?? 60);
  return {
    status: ERROR_CODES[code].status,
    body: envelope(code, message, requestId, data?.details),
    headers,
    internal: code === "INTERNAL_ERROR",
  };
}
