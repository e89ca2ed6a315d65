import type { JsonSchema } from "../validation.ts";
import type { RouteSpec } from "./route.ts";

const tag = "Operations";

export const readinessSchema: JsonSchema = {
  type: "object",
  additionalProperties: false,
  required: ["status", "checks"],
  properties: {
    status: { const: "ok" },
    checks: { type: "object", additionalProperties: { type: "string" } },
  },
};

export const operationRoutes = {
  health: {
    operationId: "health",
    method: "GET",
    path: "/health",
    action: "gateway.health",
    access: "public",
    tag,
    summary: "Liveness: 200 while the process is alive",
    status: 200,
    response: {
      type: "object",
      additionalProperties: false,
      required: ["status"],
      properties: { status: { const: "ok" } },
    },
    errors: [],
    unlimited: true,
  },
  ready: {
    operationId: "ready",
    method: "GET",
    path: "/ready",
    action: "gateway.ready",
    access: "public",
    tag,
    summary: "Readiness: every service, its database and the message bus answer",
    description: "503 lists each failing service and check in `details`.",
    status: 200,
    response: readinessSchema,
    errors: ["SERVICE_UNAVAILABLE"],
    unlimited: true,
  },
  openapi: {
    operationId: "openapi",
    method: "GET",
    path: "/openapi.json",
    action: "gateway.openapi",
    access: "public",
    tag,
    summary: "This OpenAPI 3.1 document",
    status: 200,
    response: { type: "object" },
    errors: [],
    unlimited: true,
  },
  docs: {
    operationId: "docs",
    method: "GET",
    path: "/docs",
    action: "gateway.docs",
    access: "public",
    tag,
    summary: "A page that renders this document (served locally, no CDN)",
    status: 200,
    responseMediaType: "text/html",
    errors: [],
    unlimited: true,
  },
  docsAsset: {
    operationId: "docsAsset",
    method: "GET",
    path: "/docs/assets/:file",
    action: "gateway.docsAsset",
    access: "public",
    tag,
    summary: "Script and style files of the docs page",
    pathParams: { file: { enum: ["swagger-ui.css", "swagger-ui-bundle.js", "docs.js"] } },
    status: 200,
    responseMediaType: "application/octet-stream",
    errors: ["NOT_FOUND"],
    unlimited: true,
  },
} satisfies Record<string, RouteSpec>;
