import { isUtf8 } from "node:buffer";
import type { IncomingMessage, ServerResponse } from "node:http";
import type { Context, ServiceSchema, ServiceSettingSchema } from "moleculer";
import ApiGateway from "moleculer-web";
import packageJson from "../../package.json" with { type: "json" };
import { ROUTES } from "../../shared/api/index.ts";
import { buildOpenApi } from "../../shared/api/openapi.ts";
import { actionParamsSchema, API_PREFIX, matchRoute, type RouteSpec } from "../../shared/api/route.ts";
import { assertValid, type JsonSchema } from "../../shared/validation.ts";
import { AccessTokenVerifier } from "../../shared/auth/tokens.ts";
import { ALL_SERVICES } from "../../shared/config.ts";
import type { AuthUser, RequestContext, RequestMeta } from "../../shared/context.ts";
import { AppError } from "../../shared/errors.ts";
import { httpRequestDuration, httpRequests, rateLimited } from "../../shared/ops/metrics.ts";
import type { ReadinessReport } from "../../shared/ops/server.ts";
import type { ServiceDeps } from "../../shared/runtime-types.ts";
import { DOCS_CONTENT_SECURITY_POLICY, DOCS_HTML, docsAsset } from "./docs.ts";
import { toErrorResponse } from "./error-response.ts";
import { RateLimiter } from "./rate-limiter.ts";
import {
  assertJsonBody,
  bearerToken,
  buildParams,
  clientAddress,
  idempotencyKeyOf,
  ifMatchVersion,
  requestIdOf,
  takesBody,
} from "./request.ts";

/** What moleculer-web attaches to the request as it routes it. */
interface GatewayRequest extends IncomingMessage {
  $params: Record<string, unknown>;
  $ctx?: Context<unknown, RequestMeta>;
  $spec?: RouteSpec;
  $requestId?: string;
}

interface AliasInfo {
  method: string;
  path: string;
}

const HEALTH_TIMEOUT_MS = 2000;
const CALL_TIMEOUT_MS = 15_000;

function statusClass(status: number): string {
  return `${Math.floor(status / 100)}xx`;
}

/**
 * The REST gateway: only the routes of the route table exist. It checks tokens, limits, bodies and
 * query strings, calls the action, and turns every error into the contract's envelope.
 */
export default function gatewayService(deps: ServiceDeps): ServiceSchema {
  const { config, keys } = deps;
  const limiter = new RateLimiter(config.rateLimitPerMinute);
  const tokens = new AccessTokenVerifier(keys.publicKey);
  const specs = new Map(ROUTES.map((route) => [`${route.method} ${route.path}`, route]));
  const paramsSchemas = new Map(ROUTES.map((route) => [route, actionParamsSchema(route) as JsonSchema]));
  const openApiDocument = buildOpenApi(ROUTES, packageJson.version);
  const backendServices = ALL_SERVICES.filter((name) => name !== "gateway");

  function authenticate(req: IncomingMessage): AuthUser | null {
    const token = bearerToken(req);
    const claims = token ? tokens.verify(token) : null;
    return claims ? { id: claims.userId, role: claims.role } : null;
  }

  function enforceRateLimit(spec: RouteSpec, user: AuthUser | null, address: string): void {
    if (spec.unlimited) return;
    const wait = limiter.take(user ? `user:${user.id}` : `address:${address}`);
    if (wait !== null) {
      rateLimited.inc();
      throw new AppError("RATE_LIMITED", undefined, { retryAfterSeconds: wait });
    }
  }

  function authorize(spec: RouteSpec, req: IncomingMessage, user: AuthUser | null): void {
    if (spec.access === "public") return;
    if (!user) {
      const message = bearerToken(req)
        ? "The access token is invalid or expired"
        : "A bearer access token is required";
      throw new AppError("UNAUTHORIZED", message);
    }
    if (spec.access === "admin" && user.role !== "admin") throw new AppError("FORBIDDEN");
  }

  function beforeCall(ctx: Context<unknown, RequestMeta>, req: GatewayRequest, alias: AliasInfo): void {
    // moleculer-web keeps alias paths without their leading slash.
    const spec = specs.get(`${alias.method} /${alias.path.replace(/^\//, "")}`);
    if (!spec) throw new AppError("NOT_FOUND", "No such route");
    req.$spec = spec;
    assertJsonBody(req);
    const address = clientAddress(req);
    const user = authenticate(req);
    enforceRateLimit(spec, user, address);
    authorize(spec, req, user);
    ctx.meta.user = user;
    ctx.meta.requestId = ctx.requestID ?? undefined;
    ctx.meta.clientIp = address;
    ctx.meta.ifMatch = ifMatchVersion(req);
    ctx.meta.idempotencyKey = idempotencyKeyOf(req);
    const raw = req.$params as {
      params?: Record<string, unknown>;
      query?: Record<string, unknown>;
      body?: unknown;
    };
    const params = buildParams(spec, raw.params ?? {}, raw.query ?? {}, raw.body);
    // Checked here too, before anything is serialised for the transporter: a body nested thousands
    // deep is refused at its first wrong level instead of overflowing the serialiser's stack.
    assertValid(paramsSchemas.get(spec)!, params);
    for (const key of Object.keys(req.$params)) delete req.$params[key];
    for (const [key, value] of Object.entries(params)) {
      Object.defineProperty(req.$params, key, {
        value,
        enumerable: true,
        writable: true,
        configurable: true,
      });
    }
  }

  function afterCall(ctx: Context<unknown, RequestMeta>, req: GatewayRequest, data: unknown): unknown {
    const spec = req.$spec;
    if (spec && ctx.meta.$statusCode === undefined) ctx.meta.$statusCode = spec.status;
    if (ctx.meta.$statusCode === 201) ctx.meta.$location ??= API_PREFIX + (spec?.path ?? "");
    return ctx.meta.$statusCode === 204 ? null : data;
  }

  return {
    name: "gateway",
    mixins: [ApiGateway],

    // moleculer-web's typings declare rootCallOptions as an object only, though it takes a function too.
    settings: {
      port: config.port,
      ip: "0.0.0.0",
      cors:
        config.corsOrigins === "*" || config.corsOrigins.length > 0
          ? {
              origin: config.corsOrigins,
              methods: ["GET", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"],
              allowedHeaders: [
                "Authorization",
                "Content-Type",
                "If-Match",
                "Idempotency-Key",
                "X-Request-Id",
              ],
              exposedHeaders: ["X-Request-Id", "Retry-After", "Location"],
              maxAge: 600,
            }
          : undefined,
      log4XXResponses: false,
      logRequest: "debug",
      logResponse: "debug",
      logRequestParams: null,
      logResponseData: null,
      rootCallOptions(options: { requestID?: string }, req: GatewayRequest, res: ServerResponse) {
        const requestId = requestIdOf(req);
        req.$requestId = requestId;
        options.requestID = requestId;
        res.setHeader("X-Request-Id", requestId);
        res.setHeader("X-Content-Type-Options", "nosniff");
        // A body sent with GET or DELETE is never read (the body parsers only read typed bodies).
        if (!takesBody(req.method ?? "GET")) delete req.headers["content-type"];
        const stopTimer = process.hrtime.bigint();
        res.once("finish", () => {
          const path = (req.url ?? "").split("?")[0]!.slice(API_PREFIX.length);
          const route = (req.$spec ?? matchRoute(ROUTES, req.method ?? "GET", path))?.path ?? "unmatched";
          const labels = { route, method: req.method ?? "GET" };
          httpRequests.inc({ ...labels, status_class: statusClass(res.statusCode) });
          httpRequestDuration.observe(labels, Number(process.hrtime.bigint() - stopTimer) / 1e9);
        });
      },
      routes: [false, true].map((largeBody) => ({
        name: largeBody ? "api-large-bodies" : "api",
        path: API_PREFIX,
        mappingPolicy: "restrict",
        autoAliases: false,
        mergeParams: false,
        bodyParsers: {
          json: {
            limit: largeBody ? "1mb" : "64kb",
            strict: true,
            type: ["application/json", "application/*+json"],
            // Bytes that are not UTF-8 are refused (400), not stored with replacement characters.
            // (Another declared charset is refused with 415 before the call.)
            verify(_req: IncomingMessage, _res: ServerResponse, body: Buffer, encoding: string) {
              if (encoding.toLowerCase() === "utf-8" && !isUtf8(body))
                throw new Error("The request body is not UTF-8");
            },
          },
          urlencoded: false,
        },
        callOptions: { timeout: CALL_TIMEOUT_MS },
        aliases: Object.fromEntries(
          ROUTES.filter((route) => Boolean(route.largeBody) === largeBody).map((route) => [
            `${route.method} ${route.path}`,
            route.action,
          ]),
        ),
        onBeforeCall(
          ctx: Context<unknown, RequestMeta>,
          _route: unknown,
          req: GatewayRequest,
          _res: unknown,
          alias: AliasInfo,
        ) {
          beforeCall(ctx, req, alias);
        },
        onAfterCall(
          ctx: Context<unknown, RequestMeta>,
          _route: unknown,
          req: GatewayRequest,
          _res: unknown,
          data: unknown,
        ) {
          return afterCall(ctx, req, data);
        },
      })),
      onError(
        this: { logger: { error: (...args: unknown[]) => void } },
        req: GatewayRequest,
        res: ServerResponse,
        error: unknown,
      ) {
        const requestId = req.$requestId ?? requestIdOf(req);
        const response = toErrorResponse(error, requestId);
        if (response.internal)
          this.logger.error("request failed", {
            requestId,
            error: String(error),
            stack: (error as Error)?.stack,
          });
        if (res.headersSent) {
          res.end();
          return;
        }
        res.writeHead(response.status, {
          ...response.headers,
          "Content-Type": "application/json; charset=utf-8",
          "Cache-Control": "no-store",
          "X-Request-Id": requestId,
        });
        res.end(JSON.stringify(response.body));
      },
    } as ServiceSettingSchema,

    methods: {
      /** moleculer-web logs 5xx answers with their stacks here; onError already logs what is ours. */
      errorHandler(req: GatewayRequest, res: ServerResponse, error: unknown) {
        this.sendError(req, res, error);
      },
    },

    actions: {
      health: {
        handler() {
          return { status: "ok" };
        },
      },

      ready: {
        async handler(ctx: RequestContext) {
          const reports = await Promise.all(
            backendServices.map(async (name) => {
              try {
                const report = await ctx.call<ReadinessReport, Record<string, never>>(
                  `${name}.health`,
                  {},
                  {
                    timeout: HEALTH_TIMEOUT_MS,
                    retries: 0,
                  },
                );
                return [name, report] as const;
              } catch {
                return [name, { ready: false, checks: { service: "not answering" } }] as const;
              }
            }),
          );
          const failing = reports.flatMap(([name, report]) =>
            Object.entries(report.checks)
              .filter(([, status]) => status !== "ok")
              .map(([check, status]) => ({ path: `/${name}/${check}`, message: status })),
          );
          if (failing.length > 0) {
            throw new AppError("SERVICE_UNAVAILABLE", "Some services are not ready", { details: failing });
          }
          return { status: "ok", checks: Object.fromEntries(reports.map(([name]) => [name, "ok"])) };
        },
      },

      openapi: {
        handler() {
          return openApiDocument;
        },
      },

      docs: {
        handler(ctx: RequestContext) {
          ctx.meta.$responseType = "text/html; charset=utf-8";
          ctx.meta.$responseHeaders = { "Content-Security-Policy": DOCS_CONTENT_SECURITY_POLICY };
          return DOCS_HTML;
        },
      },

      docsAsset: {
        async handler(ctx: RequestContext<{ file: string }>) {
          const asset = await docsAsset(ctx.params.file);
          if (!asset) throw new AppError("NOT_FOUND");
          ctx.meta.$responseType = asset.contentType;
          ctx.meta.$responseHeaders = { "Cache-Control": "public, max-age=3600" };
          return asset.body;
        },
      },
    },
  };
}
