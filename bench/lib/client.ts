/** A minimal API client for the benchmark: JSON in and out, a bearer token, timed requests. */

export class ApiError extends Error {
  readonly status: number;

  constructor(what: string, status: number, body: string) {
    super(`${what}: status ${status}: ${body.slice(0, 500)}`);
    this.name = "ApiError";
    this.status = status;
  }
}

interface AuthTokens {
  accessToken: string;
  refreshToken: string;
}

/** Access tokens live at most 15 minutes: refreshed between rounds once older than this. */
const TOKEN_MAX_AGE_MS = 5 * 60 * 1000;

export class Client {
  readonly baseUrl: string;
  private accessToken = "";
  private refreshToken = "";
  private tokenAt = 0;

  constructor(baseUrl: string) {
    this.baseUrl = baseUrl;
  }

  private headers(body: boolean): Record<string, string> {
    const headers: Record<string, string> = {};
    if (this.accessToken) headers.authorization = `Bearer ${this.accessToken}`;
    if (body) headers["content-type"] = "application/json";
    return headers;
  }

  private setTokens(tokens: AuthTokens): void {
    this.accessToken = tokens.accessToken;
    this.refreshToken = tokens.refreshToken;
    this.tokenAt = Date.now();
  }

  /** One request; throws unless the answer has the `expected` status. */
  async request<T>(method: string, path: string, expected: number, body?: unknown): Promise<T> {
    const response = await fetch(`${this.baseUrl}${path}`, {
      method,
      headers: this.headers(body !== undefined),
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await response.text();
    if (response.status !== expected) throw new ApiError(`${method} ${path}`, response.status, text);
    return (text ? JSON.parse(text) : null) as T;
  }

  /**
   * One request timed from just before `fetch` to the last byte of the body (milliseconds, from
   * `process.hrtime.bigint()`); the status is checked after the clock stopped.
   */
  async timed(method: string, path: string, expected: number, body?: unknown): Promise<number> {
    const init: RequestInit = {
      method,
      headers: this.headers(body !== undefined),
      body: body === undefined ? undefined : JSON.stringify(body),
    };
    const url = `${this.baseUrl}${path}`;
    const started = process.hrtime.bigint();
    const response = await fetch(url, init);
    const text = await response.text();
    const elapsed = process.hrtime.bigint() - started;
    if (response.status !== expected) throw new ApiError(`${method} ${path}`, response.status, text);
    return Number(elapsed) / 1e6;
  }

  async register(email: string, password: string): Promise<void> {
    this.setTokens(await this.request<AuthTokens>("POST", "/auth/register", 201, { email, password }));
  }

  /** A fresh access token when the current one is getting old (never during a timed block). */
  async keepFresh(): Promise<void> {
    if (Date.now() - this.tokenAt < TOKEN_MAX_AGE_MS) return;
    const refreshToken = this.refreshToken;
    this.accessToken = "";
    this.setTokens(await this.request<AuthTokens>("POST", "/auth/refresh", 200, { refreshToken }));
  }
}
