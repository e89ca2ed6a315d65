import { Ajv, type ValidateFunction } from "ajv";
import addFormats from "ajv-formats";
import { ROUTES } from "../../shared/api/index.ts";
import { errorEnvelopeSchema } from "../../shared/api/common.ts";
import { API_PREFIX, errorsOf, matchRoute, type RouteSpec } from "../../shared/api/route.ts";
import { ERROR_CODES } from "../../shared/errors.ts";

export interface ApiResponse<T = Record<string, unknown>> {
  status: number;
  headers: Headers;
  body: T;
  text: string;
}

export interface RequestOptions {
  body?: unknown;
  /** Sent as-is, with `contentType`, instead of JSON. */
  rawBody?: string | Buffer;
  contentType?: string;
  token?: string;
  headers?: Record<string, string>;
}

const ajv = new Ajv({ allErrors: true, strict: false });
addFormats.default(ajv);
const validators = new Map<unknown, ValidateFunction>();

function validatorFor(schema: object): ValidateFunction {
  let validate = validators.get(schema);
  if (!validate) {
    validate = ajv.compile(schema);
    validators.set(schema, validate);
  }
  return validate;
}

/**
 * Every answer a test receives is checked against the OpenAPI document's promise for that route:
 * the status must be documented, and the body must match its schema (or the error envelope).
 */
function assertDocumented(route: RouteSpec | undefined, response: ApiResponse<unknown>, what: string): void {
  const isJson = response.headers.get("content-type")?.startsWith("application/json") ?? false;
  if (response.status >= 400) {
    if (!isJson) throw new Error(`${what}: error ${response.status} is not JSON`);
    if (!validatorFor(errorEnvelopeSchema)(response.body)) {
      throw new Error(`${what}: error body is not the envelope: ${response.text}`);
    }
    const documented = route ? errorsOf(route).map((code) => ERROR_CODES[code].status) : [404];
    if (response.status !== 500 && !documented.includes(response.status)) {
      throw new Error(`${what}: status ${response.status} is not documented for ${route?.path}`);
    }
    return;
  }
  if (!route) throw new Error(`${what}: answered ${response.status} but is not in the route table`);
  if (response.status !== route.status)
    throw new Error(`${what}: status ${response.status}, documented ${route.status}`);
  if (route.response && isJson && !validatorFor(route.response)(response.body)) {
    throw new Error(
      `${what}: body does not match the documented schema: ${ajv.errorsText(validatorFor(route.response).errors)}`,
    );
  }
}

/** A small HTTP client for the gateway, as a frontend would use it. */
export class Api {
  readonly baseUrl: string;

  constructor(baseUrl: string) {
    this.baseUrl = baseUrl;
  }

  async request<T = Record<string, unknown>>(
    method: string,
    path: string,
    options: RequestOptions = {},
  ): Promise<ApiResponse<T>> {
    const headers: Record<string, string> = { ...options.headers };
    let body: string | Buffer | undefined;
    if (options.rawBody !== undefined) {
      body = options.rawBody;
      if (options.contentType) headers["content-type"] = options.contentType;
    } else if (options.body !== undefined) {
      body = JSON.stringify(options.body);
      headers["content-type"] = options.contentType ?? "application/json";
    }
    if (options.token) headers.authorization = `Bearer ${options.token}`;
    const response = await fetch(this.baseUrl + path, { method, headers, body });
    const text = await response.text();
    let parsed: unknown = text;
    if (response.headers.get("content-type")?.startsWith("application/json") && text.length > 0)
      parsed = JSON.parse(text);
    const result = { status: response.status, headers: response.headers, body: parsed as T, text };
    const route = matchRoute(ROUTES, method, path.split("?")[0]!);
    assertDocumented(route, result, `${method} ${API_PREFIX}${path}`);
    return result;
  }

  get<T = Record<string, unknown>>(path: string, options?: RequestOptions) {
    return this.request<T>("GET", path, options);
  }
  post<T = Record<string, unknown>>(path: string, body?: unknown, options: RequestOptions = {}) {
    return this.request<T>("POST", path, { ...options, body });
  }
  patch<T = Record<string, unknown>>(path: string, body?: unknown, options: RequestOptions = {}) {
    return this.request<T>("PATCH", path, { ...options, body });
  }
  delete<T = Record<string, unknown>>(path: string, options?: RequestOptions) {
    return this.request<T>("DELETE", path, options);
  }
}

export interface Session {
  user: { id: string; email: string; role: string; timezone: string };
  accessToken: string;
  refreshToken: string;
  expiresIn: number;
}

let counter = 0;

/** A fresh, unique email for each test user. */
export function newEmail(prefix = "user"): string {
  counter += 1;
  return `${prefix}-${Date.now().toString(36)}-${counter}@example.test`;
}

export async function registerUser(
  api: Api,
  overrides: Record<string, unknown> = {},
): Promise<Session & { password: string }> {
  const password = "correct horse battery";
  const response = await api.post<Session>("/auth/register", { email: newEmail(), password, ...overrides });
  if (response.status !== 201) throw new Error(`register failed: ${response.status} ${response.text}`);
  return { ...response.body, password: (overrides.password as string | undefined) ?? password };
}
