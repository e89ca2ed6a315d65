import { ERROR_CODES, type ErrorCode } from "../errors.ts";
import type { JsonSchema } from "../validation.ts";
import { errorEnvelopeSchema } from "./common.ts";
import { API_PREFIX, errorsOf, type RouteSpec } from "./route.ts";

type OpenApiDocument = Record<string, unknown>;

const requestIdHeader = {
  description: "Echoes the request's X-Request-Id, or a generated one",
  schema: { type: "string" },
};

function openApiPath(path: string): string {
  return API_PREFIX + path.replace(/:([A-Za-z]+)/g, "{$1}");
}

function parametersOf(route: RouteSpec): unknown[] {
  const path = Object.entries(route.pathParams ?? {}).map(([name, schema]) => ({
    name,
    in: "path",
    required: true,
    schema,
  }));
  const query = route.query as { properties?: Record<string, JsonSchema>; required?: string[] } | undefined;
  const queryParams = Object.entries(query?.properties ?? {}).map(([name, schema]) => ({
    name,
    in: "query",
    required: query?.required?.includes(name) ?? false,
    schema,
  }));
  const headers = Object.entries(route.headers ?? {}).map(([name, header]) => ({
    name,
    in: "header",
    required: false,
    description: header.description,
    schema: header.schema,
  }));
  return [...path, ...queryParams, ...headers];
}

function successResponse(route: RouteSpec): Record<string, unknown> {
  const headers = { "X-Request-Id": requestIdHeader };
  if (route.status === 204) return { description: "Done; no content", headers };
  if (route.responseMediaType) {
    return {
      description: "OK",
      headers,
      content: { [route.responseMediaType]: { schema: { type: "string" } } },
    };
  }
  const content: Record<string, unknown> = { "application/json": { schema: route.response ?? {} } };
  for (const type of route.extraMediaTypes ?? []) content[type] = { schema: { type: "string" } };
  return { description: route.status === 201 ? "Created" : "OK", headers, content };
}

function errorResponses(codes: ErrorCode[]): Record<string, unknown> {
  const byStatus = new Map<number, ErrorCode[]>();
  for (const code of codes) {
    const status = ERROR_CODES[code].status;
    byStatus.set(status, [...(byStatus.get(status) ?? []), code]);
  }
  const responses: Record<string, unknown> = {};
  for (const [status, group] of [...byStatus].sort(([a], [b]) => a - b)) {
    const headers: Record<string, unknown> = { "X-Request-Id": requestIdHeader };
    if (status === 429)
      headers["Retry-After"] = { description: "Seconds to wait", schema: { type: "integer" } };
    responses[String(status)] = {
      description: group.map((code) => `\`${code}\`: ${ERROR_CODES[code].message}`).join("; "),
      headers,
      content: { "application/json": { schema: { $ref: "#/components/schemas/ErrorEnvelope" } } },
    };
  }
  return responses;
}

function operationOf(route: RouteSpec): Record<string, unknown> {
  const operation: Record<string, unknown> = {
    operationId: route.operationId,
    tags: [route.tag],
    summary: route.summary,
    security: route.access === "public" ? [] : [{ bearerAuth: [] }],
    responses: { [String(route.status)]: successResponse(route), ...errorResponses(errorsOf(route)) },
  };
  if (route.description) operation.description = route.description;
  if (route.access === "admin") operation.description = `${route.description ?? ""} Admins only.`.trim();
  const parameters = parametersOf(route);
  if (parameters.length > 0) operation.parameters = parameters;
  if (route.body) {
    operation.requestBody = {
      required: true,
      description: `JSON, at most ${route.largeBody ? "1 MiB" : "64 KiB"}. Unknown properties are rejected.`,
      content: { "application/json": { schema: route.body } },
    };
  }
  return operation;
}

/** The OpenAPI 3.1 document, generated from the same route table and schemas that validate requests. */
export function buildOpenApi(routes: readonly RouteSpec[], version: string): OpenApiDocument {
  const paths: Record<string, Record<string, unknown>> = {};
  for (const route of routes) {
    const path = openApiPath(route.path);
    paths[path] = { ...paths[path], [route.method.toLowerCase()]: operationOf(route) };
  }
  return {
    openapi: "3.1.0",
    info: {
      title: "Goal tracker API",
      version,
      description:
        "Goals, habits, streaks and stats. Every error has the envelope `{error: {code, message, status, details?, requestId}}`; `code` is stable, act on it.",
    },
    servers: [{ url: "/" }],
    tags: [...new Set(routes.map((route) => route.tag))].map((name) => ({ name })),
    paths,
    components: {
      securitySchemes: { bearerAuth: { type: "http", scheme: "bearer", bearerFormat: "JWT" } },
      schemas: { ErrorEnvelope: errorEnvelopeSchema },
    },
  };
}
