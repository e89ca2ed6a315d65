import { expect } from "chai";
import { ROUTES } from "../../shared/api/index.ts";
import { newEmail, registerUser } from "../helpers/api.ts";
import { useStack } from "../helpers/stack.ts";

type ErrorBody = {
  error: { code: string; message: string; status: number; requestId: string; details?: { path: string }[] };
};

describe("The gateway: the envelope, limits and what exists", function () {
  const sys = useStack();

  describe("request ids", () => {
    it("echoes X-Request-Id, in the header and in an error's body", async () => {
      const response = await sys.api.get<ErrorBody>("/me", { headers: { "x-request-id": "trace-123" } });
      expect(response.headers.get("x-request-id")).to.equal("trace-123");
      expect(response.body.error.requestId).to.equal("trace-123");
    });

    it("generates one when none (or an unsafe one) is given", async () => {
      const plain = await sys.api.get("/health");
      expect(plain.headers.get("x-request-id")).to.match(/^[0-9a-f-]{36}$/);
      const unsafe = await sys.api.get("/health", { headers: { "x-request-id": "<script>" } });
      expect(unsafe.headers.get("x-request-id")).to.match(/^[0-9a-f-]{36}$/);
    });
  });

  describe("bodies", () => {
    it("answers malformed JSON with 400 BAD_REQUEST", async () => {
      const response = await sys.api.request<ErrorBody>("POST", "/auth/login", {
        rawBody: '{"email": ',
        contentType: "application/json",
      });
      expect(response.status).to.equal(400);
      expect(response.body.error.code).to.equal("BAD_REQUEST");
    });

    it("answers a body that is not JSON with 415 UNSUPPORTED_MEDIA_TYPE", async () => {
      for (const contentType of [
        "text/plain",
        "application/x-www-form-urlencoded",
        "multipart/form-data; boundary=x",
      ]) {
        const response = await sys.api.request<ErrorBody>("POST", "/auth/login", {
          rawBody: "email=a&password=b",
          contentType,
        });
        expect(response.status, contentType).to.equal(415);
        expect(response.body.error.code).to.equal("UNSUPPORTED_MEDIA_TYPE");
      }
    });

    it("answers a JSON body in another charset with 415", async () => {
      const response = await sys.api.request<ErrorBody>("POST", "/auth/login", {
        rawBody: Buffer.from('{"email":"a@b.c","password":"x"}', "utf16le"),
        contentType: "application/json; charset=utf-16",
      });
      expect(response.status).to.equal(415);
    });

    it("answers a body over 64 KiB with 413 PAYLOAD_TOO_LARGE", async () => {
      const response = await sys.api.post<ErrorBody>("/auth/register", {
        email: newEmail(),
        password: "password1",
        displayName: "x".repeat(70 * 1024),
      });
      expect(response.status).to.equal(413);
      expect(response.body.error.code).to.equal("PAYLOAD_TOO_LARGE");
    });

    it("answers a JSON array or scalar where an object is expected with 422", async () => {
      for (const rawBody of ["[]", "[1,2]"]) {
        const response = await sys.api.request<ErrorBody>("POST", "/auth/login", {
          rawBody,
          contentType: "application/json",
        });
        expect(response.status, rawBody).to.equal(422);
      }
    });

    it("keeps operator objects out of queries: {$ne: null} is a 422, not a login", async () => {
      const session = await registerUser(sys.api);
      const response = await sys.api.post<ErrorBody>("/auth/login", {
        email: session.user.email,
        password: { $ne: null },
      });
      expect(response.status).to.equal(422);
      const byEmail = await sys.api.post<ErrorBody>("/auth/login", {
        email: { $gt: "" },
        password: session.password,
      });
      expect(byEmail.status).to.equal(422);
    });

    it("accepts a body on a route that takes none only when it is empty", async () => {
      const session = await registerUser(sys.api);
      const empty = await sys.api.post("/me/onboarding/complete", {}, { token: session.accessToken });
      expect(empty.status).to.equal(200);
      const extra = await sys.api.post<ErrorBody>(
        "/me/onboarding/complete",
        { onboardingCompletedAt: "2020-01-01T00:00:00Z" },
        { token: session.accessToken },
      );
      expect(extra.status).to.equal(422);
    });
  });

  describe("only the contract's routes exist", () => {
    it("answers unknown paths and methods with 404 NOT_FOUND", async () => {
      for (const [method, path] of [
        ["GET", "/nope"],
        ["PUT", "/me"],
        ["GET", "/auth/register"],
        ["GET", ""],
      ] as const) {
        const response = await sys.api.request<ErrorBody>(method, path);
        expect(response.status, `${method} ${path}`).to.equal(404);
        expect(response.body.error.code).to.equal("NOT_FOUND");
      }
    });

    it("exposes no framework-internal action or node-info route", async () => {
      const probes = [
        "/~node/list",
        "/~node/services",
        "/~node/actions",
        "/$node/list",
        "/auth/health",
        "/auth.health",
        "/gateway/rest",
        "/api/auth/register",
      ];
      for (const path of probes) {
        const response = await fetch(`${sys.stack.baseUrl}${path}`);
        expect(response.status, path).to.equal(404);
      }
      const outsidePrefix = await fetch(sys.stack.baseUrl.replace("/api/v1", "/~node/list"));
      expect(outsidePrefix.status).to.equal(404);
    });

    it("never shows a stack trace or an internal message", async () => {
      const response = await sys.api.request<ErrorBody>("POST", "/auth/login", {
        rawBody: "{{{{",
        contentType: "application/json",
      });
      expect(response.text).to.not.match(/at \w+ \(|node_modules|SyntaxError|Unexpected token/);
    });
  });

  describe("CORS", () => {
    it("answers a browser's preflight for an allowed origin", async () => {
      const response = await fetch(`${sys.stack.baseUrl}/auth/login`, {
        method: "OPTIONS",
        headers: {
          origin: "http://localhost:5173",
          "access-control-request-method": "POST",
          "access-control-request-headers": "content-type",
        },
      });
      expect(response.status).to.equal(204);
      expect(response.headers.get("access-control-allow-origin")).to.be.oneOf(["*", "http://localhost:5173"]);
    });
  });

  describe("operations routes", () => {
    it("GET /health answers 200 {status: ok}", async () => {
      const response = await sys.api.get("/health");
      expect(response.status).to.equal(200);
      expect(response.body).to.deep.equal({ status: "ok" });
    });

    it("GET /ready answers 200 when every service, database and bus answer", async () => {
      const response = await sys.api.get<{ status: string; checks: Record<string, string> }>("/ready");
      expect(response.status).to.equal(200);
      expect(response.body.checks).to.include({ auth: "ok" });
    });

    it("GET /openapi.json is OpenAPI 3.1 and lists every route of the route table", async () => {
      const response = await sys.api.get<{ openapi: string; paths: Record<string, Record<string, unknown>> }>(
        "/openapi.json",
      );
      expect(response.body.openapi).to.equal("3.1.0");
      for (const route of ROUTES) {
        const path = "/api/v1" + route.path.replace(/:([A-Za-z]+)/g, "{$1}");
        expect(response.body.paths[path], path).to.have.property(route.method.toLowerCase());
      }
    });

    it("GET /docs is an HTML page whose assets are served here", async () => {
      const page = await sys.api.get("/docs");
      expect(page.headers.get("content-type")).to.match(/^text\/html/);
      const assets = [...page.text.matchAll(/(?:src|href)="([^"]+)"/g)]
        .map((match) => match[1]!)
        .filter((asset) => !asset.startsWith("data:"));
      expect(assets).to.have.length.greaterThan(1);
      for (const asset of assets) {
        expect(asset.startsWith("/api/v1/docs/assets/"), asset).to.equal(true);
        const response = await fetch(sys.stack.baseUrl.replace("/api/v1", "") + asset);
        expect(response.status, asset).to.equal(200);
      }
    });
  });
});

describe("When a service is down", function () {
  const sys = useStack();

  before(async function () {
    this.timeout(60_000);
    await registerUser(sys.api);
    await sys.stack.stopService("auth");
  });

  it("answers its routes with 503 SERVICE_UNAVAILABLE, and /ready says which one failed", async function () {
    this.timeout(30_000);
    const login = await sys.api.post<ErrorBody>("/auth/login", { email: newEmail(), password: "password1" });
    expect(login.status).to.equal(503);
    expect(login.body.error.code).to.equal("SERVICE_UNAVAILABLE");
    const ready = await sys.api.get<ErrorBody>("/ready");
    expect(ready.status).to.equal(503);
    expect(ready.body.error.details?.map((d) => d.path)).to.include("/auth/service");
    expect((await sys.api.get("/health")).status).to.equal(200);
  });
});

describe("Rate limits", function () {
  describe("per user or address (RATE_LIMIT_PER_MINUTE)", () => {
    const sys = useStack({ RATE_LIMIT_PER_MINUTE: "5" });

    it("answers the request over the limit with 429 RATE_LIMITED and Retry-After; users and addresses count apart", async () => {
      const session = await registerUser(sys.api); // 1 anonymous request from this address
      const statuses: number[] = [];
      for (let i = 0; i < 6; i += 1)
        statuses.push((await sys.api.get("/me", { token: session.accessToken })).status);
      expect(statuses.slice(0, 5)).to.deep.equal([200, 200, 200, 200, 200]);
      expect(statuses[5]).to.equal(429);
      const limited = await sys.api.get<ErrorBody>("/me", { token: session.accessToken });
      expect(limited.body.error.code).to.equal("RATE_LIMITED");
      expect(Number(limited.headers.get("retry-after"))).to.be.within(1, 60);
      // The user's budget is spent, the address's anonymous one is not.
      const anonymous = await sys.api.post("/auth/login", { email: newEmail(), password: "password1" });
      expect(anonymous.status).to.equal(401);
      expect((await sys.api.get("/health")).status).to.equal(200);
    });
  });

  describe("failed logins", () => {
    const sys = useStack({ RATE_LIMIT_PER_MINUTE: "0" });

    it("blocks an email after 10 failures in 15 minutes, even with the right password", async function () {
      this.timeout(60_000);
      const session = await registerUser(sys.api);
      for (let i = 0; i < 10; i += 1) {
        expect(
          (await sys.api.post("/auth/login", { email: session.user.email, password: "wrong password" }))
            .status,
        ).to.equal(401);
      }
      const blocked = await sys.api.post<ErrorBody>("/auth/login", {
        email: session.user.email,
        password: session.password,
      });
      expect(blocked.status).to.equal(429);
      expect(blocked.body.error.code).to.equal("RATE_LIMITED");
      expect(Number(blocked.headers.get("retry-after"))).to.be.within(1, 15 * 60);
    });

    it("blocks an address after 100 failures in 15 minutes, whatever the email", async function () {
      this.timeout(120_000);
      // 10 failures came from this address in the test above.
      for (let i = 0; i < 90; i += 1) {
        const response = await sys.api.post("/auth/login", {
          email: newEmail("spray"),
          password: "wrong password",
        });
        expect(response.status).to.equal(401);
      }
      const blocked = await sys.api.post("/auth/login", {
        email: newEmail("spray"),
        password: "wrong password",
      });
      expect(blocked.status).to.equal(429);
      expect(blocked.headers.get("retry-after")).to.match(/^\d+$/);
    });
  });
});
