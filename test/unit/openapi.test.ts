import { expect } from "chai";
import { Validator } from "@seriousme/openapi-schema-validator";
import {
  actionParamsSchema,
  API_PREFIX,
  errorsOf,
  matchRoute,
  ROUTES,
  type RouteSpec,
} from "../../shared/api/index.ts";
import { buildOpenApi } from "../../shared/api/openapi.ts";
import { ERROR_CODES } from "../../shared/errors.ts";
import { assertValid, type JsonSchema } from "../../shared/validation.ts";

interface Parameter {
  name: string;
  in: string;
  required?: boolean;
  schema?: unknown;
}

interface Response {
  description: string;
  headers?: Record<string, unknown>;
  content?: Record<string, { schema: Record<string, unknown> }>;
}

interface Operation {
  operationId: string;
  security: Array<Record<string, string[]>>;
  parameters?: Parameter[];
  requestBody?: { required: boolean; content: Record<string, { schema: JsonSchema }> };
  responses: Record<string, Response>;
}

interface Document {
  openapi: string;
  paths: Record<string, Record<string, Operation>>;
  components: { securitySchemes: Record<string, unknown>; schemas: Record<string, unknown> };
}

const document = buildOpenApi(ROUTES, "1.2.3") as unknown as Document;

function openApiPathOf(route: RouteSpec): string {
  return API_PREFIX + route.path.replace(/:([A-Za-z0-9_]+)/g, "{$1}");
}

function operationOf(route: RouteSpec): Operation {
  const operation = document.paths[openApiPathOf(route)]?.[route.method.toLowerCase()];
  if (!operation) expect.fail(`${route.method} ${route.path} is missing from the document`);
  return operation;
}

/** Contract, Conventions: everything needs a bearer token except these. */
const PUBLIC_PATHS = [
  "/auth/register",
  "/auth/login",
  "/auth/refresh",
  "/health",
  "/ready",
  "/openapi.json",
  "/docs",
];

function isPublicByContract(route: RouteSpec): boolean {
  return (
    PUBLIC_PATHS.some((path) => route.path === path || route.path.startsWith(`${path}/`)) &&
    route.path !== "/auth/logout"
  );
}

describe("the OpenAPI document (shared/api/openapi.ts)", () => {
  it("is a valid OpenAPI 3.1 document", async () => {
    const validator = new Validator();
    const result = await validator.validate(structuredClone(document) as unknown as Record<string, unknown>);
    expect(result.errors, JSON.stringify(result.errors, null, 2)).to.equal(undefined);
    expect(result.valid).to.equal(true);
    expect(validator.version).to.equal("3.1");
    expect(document.openapi).to.equal("3.1.0");
  });

  it("(control) the validator does refuse a broken document", async () => {
    const broken = structuredClone(document) as unknown as Record<string, unknown>;
    delete broken.info;
    const result = await new Validator().validate(broken);
    expect(result.valid).to.equal(false);
  });

  it("is plain JSON (what /openapi.json serves round-trips unchanged)", () => {
    expect(JSON.parse(JSON.stringify(document))).to.deep.equal(document);
  });

  it("describes every route of ROUTES with its method, and nothing else", () => {
    for (const route of ROUTES) expect(operationOf(route).operationId).to.equal(route.operationId);
    const documented = Object.values(document.paths).flatMap((operations) => Object.keys(operations));
    expect(documented).to.have.length(ROUTES.length);
  });

  it("gives every operation a unique operationId", () => {
    const ids = ROUTES.map((route) => route.operationId);
    expect(new Set(ids).size).to.equal(ids.length);
  });

  it("puts every path under /api/v1", () => {
    for (const path of Object.keys(document.paths)) expect(path.startsWith("/api/v1/")).to.equal(true);
  });

  it("requires the bearer token on every operation that is not public, and on none that is", () => {
    expect(document.components.securitySchemes.bearerAuth).to.deep.include({
      type: "http",
      scheme: "bearer",
    });
    for (const route of ROUTES) {
      const expected = route.access === "public" ? [] : [{ bearerAuth: [] }];
      expect(operationOf(route).security, `${route.method} ${route.path}`).to.deep.equal(expected);
    }
  });

  it("makes public exactly the routes the contract lists as public", () => {
    for (const route of ROUTES) {
      expect(route.access === "public", `${route.method} ${route.path}`).to.equal(isPublicByContract(route));
    }
  });

  describe("documents the errors each operation can answer", () => {
    for (const route of ROUTES) {
      it(`${route.method} ${route.path}`, () => {
        const responses = operationOf(route).responses;
        const statuses = Object.keys(responses);
        expect(statuses).to.include(String(route.status));
        for (const code of errorsOf(route)) expect(statuses).to.include(String(ERROR_CODES[code].status));
        if (route.access !== "public") expect(statuses).to.include("401");
        if (route.access === "admin") expect(statuses).to.include("403");
        if (!route.unlimited) {
          expect(statuses).to.include("429");
          expect(responses["429"]?.headers).to.have.property("Retry-After");
          expect(statuses).to.include("503");
        }
        if (route.body || ["POST", "PUT", "PATCH"].includes(route.method)) {
          expect(statuses).to.include.members(["400", "413", "415", "422"]);
        }
        for (const [status, response] of Object.entries(responses)) {
          expect(response.headers, `${status} X-Request-Id`).to.have.property("X-Request-Id");
          if (Number(status) >= 400) {
            expect(response.content?.["application/json"]?.schema).to.deep.equal({
              $ref: "#/components/schemas/ErrorEnvelope",
            });
            for (const code of errorsOf(route).filter((c) => String(ERROR_CODES[c].status) === status)) {
              expect(response.description, status).to.contain(code);
            }
          }
        }
      });
    }
  });

  it("documents the error envelope of the contract", () => {
    expect(document.components.schemas.ErrorEnvelope).to.deep.include({ required: ["error"] });
    const envelope = document.components.schemas.ErrorEnvelope as JsonSchema;
    assertValid(envelope, {
      error: { code: "GOAL_NOT_FOUND", message: "Goal not found", status: 404, requestId: "r1" },
    });
  });

  it("declares a required path parameter for each {name} in a path, and no other", () => {
    for (const route of ROUTES) {
      const path = openApiPathOf(route);
      const inPath = [...path.matchAll(/\{([^}]+)\}/g)].map((match) => match[1]);
      const declared = (operationOf(route).parameters ?? []).filter((parameter) => parameter.in === "path");
      expect(
        declared.map((parameter) => parameter.name),
        path,
      ).to.have.members(inPath);
      for (const parameter of declared) expect(parameter.required, parameter.name).to.equal(true);
    }
  });

  it("uses {name}, never :name, in its paths", () => {
    for (const path of Object.keys(document.paths)) expect(path).to.not.contain(":");
  });

  it("declares the query parameters of each route", () => {
    for (const route of ROUTES) {
      const query = route.query as { properties?: Record<string, unknown> } | undefined;
      const declared = (operationOf(route).parameters ?? []).filter((parameter) => parameter.in === "query");
      expect(declared.map((parameter) => parameter.name)).to.have.members(
        Object.keys(query?.properties ?? {}),
      );
    }
  });

  it("describes each request body with the schema that validates it, closed to unknown properties", () => {
    for (const route of ROUTES) {
      const body = operationOf(route).requestBody;
      if (!route.body) {
        expect(body, `${route.method} ${route.path}`).to.equal(undefined);
        continue;
      }
      expect(body?.required).to.equal(true);
      expect(body?.content["application/json"]?.schema).to.equal(route.body);
      expect(route.body.additionalProperties, route.path).to.equal(false);
    }
  });

  it("documents a non-JSON success body with its media type", () => {
    const docs = ROUTES.find((route) => route.path === "/docs");
    expect(docs).to.not.equal(undefined);
    if (docs) expect(operationOf(docs).responses["200"]?.content).to.have.property("text/html");
  });

  it("documents a 204 with no content", () => {
    for (const route of ROUTES.filter((r) => r.status === 204)) {
      expect(operationOf(route).responses["204"]?.content, route.path).to.equal(undefined);
    }
  });
});

describe("route helpers (shared/api/route.ts)", () => {
  const route: RouteSpec = {
    operationId: "logActivity",
    method: "POST",
    path: "/goals/:id/activities",
    action: "activity.create",
    access: "user",
    tag: "Activities",
    summary: "test route",
    pathParams: { id: { type: "string", minLength: 1 } },
    query: {
      type: "object",
      additionalProperties: false,
      required: ["mode"],
      properties: { mode: { enum: ["fast", "slow"] } },
    },
    body: {
      type: "object",
      additionalProperties: false,
      required: ["quantity"],
      properties: { quantity: { type: "number", exclusiveMinimum: 0 }, note: { type: "string" } },
    },
    status: 201,
    errors: ["GOAL_NOT_FOUND"],
  };

  describe("actionParamsSchema", () => {
    const schema = actionParamsSchema(route) as unknown as {
      type: string;
      additionalProperties: boolean;
      properties: Record<string, unknown>;
      required: string[];
    };

    it("merges path, query and body properties into one closed object", () => {
      expect(schema.type).to.equal("object");
      expect(schema.additionalProperties).to.equal(false);
      expect(Object.keys(schema.properties)).to.have.members(["id", "mode", "quantity", "note"]);
      expect(schema.required).to.have.members(["id", "mode", "quantity"]);
    });

    it("validates merged params and refuses a key that none of the three declares", () => {
      const closed = schema as unknown as JsonSchema;
      expect(() => assertValid(closed, { id: "g1", mode: "fast", quantity: 2 })).not.to.throw();
      expect(() => assertValid(closed, { id: "g1", mode: "fast", quantity: 2, userId: "x" })).to.throw();
      expect(() => assertValid(closed, { mode: "fast", quantity: 2 })).to.throw();
    });

    it("is closed for every route of the API, with or without a body", () => {
      for (const spec of ROUTES) {
        expect(actionParamsSchema(spec), spec.path).to.deep.include({
          type: "object",
          additionalProperties: false,
        });
      }
    });
  });

  describe("errorsOf", () => {
    it("lists what a signed-in route with a query and a body can answer, then its own errors", () => {
      expect(errorsOf(route)).to.have.members([
        "UNAUTHORIZED",
        "BAD_REQUEST",
        "PAYLOAD_TOO_LARGE",
        "UNSUPPORTED_MEDIA_TYPE",
        "VALIDATION_ERROR",
        "RATE_LIMITED",
        "GOAL_NOT_FOUND",
        "SERVICE_UNAVAILABLE",
      ]);
    });

    it("adds FORBIDDEN for admin routes, and nothing about auth for public ones", () => {
      expect(errorsOf({ ...route, access: "admin" })).to.include("FORBIDDEN");
      const publicErrors = errorsOf({ ...route, access: "public" });
      expect(publicErrors).to.not.include("UNAUTHORIZED");
      expect(publicErrors).to.not.include("FORBIDDEN");
    });

    it("leaves out the rate limit for unlimited routes", () => {
      const health: RouteSpec = {
        ...route,
        method: "GET",
        query: undefined,
        body: undefined,
        access: "public",
        errors: [],
        unlimited: true,
      };
      expect(errorsOf(health)).to.deep.equal([]);
    });
  });

  describe("matchRoute", () => {
    it("finds the route a method and path hit, with :params matching any segment", () => {
      expect(matchRoute([route], "POST", "/goals/abc/activities")).to.equal(route);
      expect(matchRoute(ROUTES, "GET", "/me")?.operationId).to.equal("getMe");
      expect(matchRoute(ROUTES, "PATCH", "/me")?.operationId).to.equal("updateMe");
    });

    it("finds nothing for another method, another length or another literal segment", () => {
      expect(matchRoute([route], "GET", "/goals/abc/activities")).to.equal(undefined);
      expect(matchRoute([route], "POST", "/goals/abc")).to.equal(undefined);
      expect(matchRoute([route], "POST", "/goals/abc/notes")).to.equal(undefined);
    });
  });
});
