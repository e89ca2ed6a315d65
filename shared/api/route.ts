import type { ActionParams } from "moleculer";
import type { ErrorCode } from "../errors.ts";
import type { JsonSchema } from "../validation.ts";

export type HttpMethod = "GET" | "POST" | "PUT" | "PATCH" | "DELETE";

/** Who may call a route: anyone, any signed-in user, or admins only. */
export type Access = "public" | "user" | "admin";

/**
 * One row of the public API. The gateway builds its aliases from these rows, actions validate with
 * their schemas, and the OpenAPI document is generated from them: the three cannot drift apart.
 */
export interface RouteSpec {
  operationId: string;
  method: HttpMethod;
  /** Path below /api/v1, with `:name` parameters. */
  path: string;
  /** The Moleculer action that serves it. */
  action: string;
  access: Access;
  tag: string;
  summary: string;
  description?: string;
  pathParams?: Record<string, JsonSchema>;
  /** Request headers the route reads, documented as header parameters. */
  headers?: Record<string, { description: string; schema: JsonSchema }>;
  query?: JsonSchema;
  body?: JsonSchema;
  /** 1 MiB instead of 64 KiB. */
  largeBody?: boolean;
  status: number;
  response?: JsonSchema;
  /** Non-JSON success bodies (HTML, scripts) by media type. */
  responseMediaType?: string;
  /** Media types the route can answer besides JSON (such as text/csv), chosen by a query parameter. */
  extraMediaTypes?: string[];
  /** Errors this route can answer beyond the ones every route of its kind can. */
  errors: ErrorCode[];
  /** Health, readiness and the API description are never rate limited. */
  unlimited?: boolean;
}

export const API_PREFIX = "/api/v1";

interface ObjectSchema {
  properties?: Record<string, JsonSchema>;
  required?: string[];
}

/**
 * The params an action receives from the gateway: path parameters, the coerced query and the body,
 * merged into one closed object (the gateway refuses a body key that shadows a path or query key).
 * Typed as Moleculer's ActionParams because our validator middleware reads JSON Schema there.
 */
export function actionParamsSchema(route: RouteSpec): ActionParams {
  const body = (route.body ?? {}) as ObjectSchema;
  const query = (route.query ?? {}) as ObjectSchema;
  const pathNames = Object.keys(route.pathParams ?? {});
  // Rules across body fields (oneOf, if/then, …) still name the same top-level keys once merged.
  const combinators = Object.fromEntries(
    Object.entries(body).filter(([keyword]) =>
      ["oneOf", "anyOf", "allOf", "not", "if", "then", "else"].includes(keyword),
    ),
  );
  return {
    type: "object",
    additionalProperties: false,
    properties: { ...route.pathParams, ...query.properties, ...body.properties },
    required: [...pathNames, ...(query.required ?? []), ...(body.required ?? [])],
    ...combinators,
  } as ActionParams;
}

/** The errors a route can answer because of what it is (signed-in, takes a body, …), then its own. */
export function errorsOf(route: RouteSpec): ErrorCode[] {
  const codes = new Set<ErrorCode>();
  if (route.access !== "public") codes.add("UNAUTHORIZED");
  if (route.access === "admin") codes.add("FORBIDDEN");
  if (route.query) codes.add("BAD_REQUEST");
  // Every POST, PUT or PATCH reads a JSON body: one that is not JSON, too large or has unknown keys is refused.
  if (route.body || route.method === "POST" || route.method === "PUT" || route.method === "PATCH") {
    for (const code of [
      "BAD_REQUEST",
      "PAYLOAD_TOO_LARGE",
      "UNSUPPORTED_MEDIA_TYPE",
      "VALIDATION_ERROR",
    ] as const) {
      codes.add(code);
    }
  }
  if (!route.unlimited) codes.add("RATE_LIMITED");
  for (const code of route.errors) codes.add(code);
  if (!route.unlimited) codes.add("SERVICE_UNAVAILABLE");
  return [...codes];
}

/** Finds the route a method and path (below the prefix) would hit, for labelling requests that failed early. */
export function matchRoute(
  routes: readonly RouteSpec[],
  method: string,
  path: string,
): RouteSpec | undefined {
  const segments = path.split("/").filter(Boolean);
  return routes.find((route) => {
    if (route.method !== method) return false;
    const pattern = route.path.split("/").filter(Boolean);
    return (
      pattern.length === segments.length &&
      pattern.every((part, index) => part.startsWith(":") || part === segments[index])
    );
  });
}
