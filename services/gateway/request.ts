import { randomUUID } from "node:crypto";
import type { IncomingMessage } from "node:http";
import type { RouteSpec } from "../../shared/api/route.ts";
import { AppError, type ErrorDetail } from "../../shared/errors.ts";
import { parseQuery } from "../../shared/validation.ts";

const REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/;

/** The caller's X-Request-Id when it is a sane token, else a fresh one (never echo arbitrary bytes). */
export function requestIdOf(req: IncomingMessage): string {
  const given = req.headers["x-request-id"];
  return typeof given === "string" && REQUEST_ID.test(given) ? given : randomUUID();
}

export function clientAddress(req: IncomingMessage): string {
  return req.socket.remoteAddress ?? "unknown";
}

function hasBody(req: IncomingMessage): boolean {
  const length = req.headers["content-length"];
  return (length !== undefined && length !== "0") || req.headers["transfer-encoding"] !== undefined;
}

const JSON_MEDIA_TYPE = /^application\/(?:[\w.+-]+\+)?json\s*(?:;|$)/i;
const CHARSET = /;\s*charset="?([\w-]+)"?/i;

/** Methods whose body the gateway reads; a body sent with GET or DELETE is ignored. */
export function takesBody(method: string): boolean {
  return method === "POST" || method === "PUT" || method === "PATCH";
}

/** A body that is not UTF-8 JSON is refused before anything else looks at it. */
export function assertJsonBody(req: IncomingMessage): void {
  if (!takesBody(req.method ?? "GET") || !hasBody(req)) return;
  const type = req.headers["content-type"] ?? "";
  if (!JSON_MEDIA_TYPE.test(type)) throw new AppError("UNSUPPORTED_MEDIA_TYPE");
  const charset = CHARSET.exec(type)?.[1]?.toLowerCase();
  if (charset !== undefined && charset !== "utf-8" && charset !== "utf8") {
    throw new AppError("UNSUPPORTED_MEDIA_TYPE", "The request body must be UTF-8 JSON");
  }
}

export function bearerToken(req: IncomingMessage): string | null {
  const header = req.headers.authorization;
  if (typeof header !== "string") return null;
  const match = /^Bearer ([A-Za-z0-9._~+/-]+=*)$/i.exec(header.trim());
  return match?.[1] ?? null;
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/**
 * The action's params: path parameters, the coerced query and the body in one object. A body that is
 * not an object, or a body key that would shadow a path or query parameter, is a validation error.
 */
export function buildParams(
  route: RouteSpec,
  pathParams: Record<string, unknown>,
  rawQuery: Record<string, unknown>,
  rawBody: unknown,
): Record<string, unknown> {
  const query = route.query ? parseQuery(route.query, rawQuery) : {};
  const body = takesBody(route.method) ? (rawBody ?? {}) : {};
  if (!isPlainObject(body)) {
    throw new AppError("VALIDATION_ERROR", undefined, {
      details: [{ path: "/", message: "must be object" }],
    });
  }
  // Keys that would reach an object's prototype are refused like any unknown property.
  const forbidden: ErrorDetail[] = Object.keys(body)
    .filter((key) => key === "__proto__" || key === "constructor" || key === "prototype")
    .map((key) => ({ path: `/${key}`, message: "must NOT have additional properties" }));
  if (forbidden.length > 0) throw new AppError("VALIDATION_ERROR", undefined, { details: forbidden });
  const shadowing: ErrorDetail[] = Object.keys(body)
    .filter((key) => Object.hasOwn(pathParams, key) || Object.hasOwn(query, key))
    .map((key) => ({ path: `/${key}`, message: "must NOT have additional properties" }));
  if (shadowing.length > 0) throw new AppError("VALIDATION_ERROR", undefined, { details: shadowing });
  return { ...body, ...query, ...pathParams };
}

/** `If-Match: 3`, `"3"` or `W/"3"` → 3; absent → undefined; anything else is a bad request. */
export function ifMatchVersion(req: IncomingMessage): number | undefined {
  const header = req.headers["if-match"];
  if (header === undefined) return undefined;
  const match = /^(?:W\/)?"?([1-9][0-9]{0,8})"?$/.exec(String(header).trim());
  if (!match) throw new AppError("BAD_REQUEST", "If-Match must carry a goal version, such as 3");
  return Number(match[1]);
}

const IDEMPOTENCY_KEY = /^[\x21-\x7e]{1,64}$/;

/** The Idempotency-Key header: at most 64 visible ASCII characters. */
export function idempotencyKeyOf(req: IncomingMessage): string | undefined {
  const header = req.headers["idempotency-key"];
  if (header === undefined) return undefined;
  if (typeof header !== "string" || !IDEMPOTENCY_KEY.test(header)) {
    throw new AppError("VALIDATION_ERROR", undefined, {
      details: [{ path: "/headers/idempotency-key", message: "must be 1 to 64 visible ASCII characters" }],
    });
  }
  return header;
}
