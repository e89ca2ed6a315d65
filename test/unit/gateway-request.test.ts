import { expect } from "chai";
import type { IncomingHttpHeaders, IncomingMessage } from "node:http";
import type { RouteSpec } from "../../shared/api/route.ts";
import { AppError, type ErrorDetail } from "../../shared/errors.ts";
import { RateLimiter } from "../../services/gateway/rate-limiter.ts";
import {
  assertJsonBody,
  bearerToken,
  buildParams,
  clientAddress,
  requestIdOf,
  takesBody,
} from "../../services/gateway/request.ts";

/** Just the parts of an IncomingMessage the helpers read. */
function request(
  headers: IncomingHttpHeaders = {},
  options: { method?: string; remoteAddress?: string } = {},
): IncomingMessage {
  return {
    method: options.method ?? "POST",
    headers,
    socket: { remoteAddress: options.remoteAddress },
  } as unknown as IncomingMessage;
}

function appErrorOf(block: () => unknown): AppError {
  try {
    block();
  } catch (error) {
    expect(error).to.be.instanceOf(AppError);
    return error as AppError;
  }
  expect.fail("expected an AppError");
}

function detailsOf(error: AppError): ErrorDetail[] {
  return (error.data as { details: ErrorDetail[] }).details;
}

const MINUTE = 60_000;
const T0 = 1_700_000_040_000; // the first millisecond of a minute window

describe("gateway rate limiter (services/gateway/rate-limiter.ts)", () => {
  it("lets a key make its limit of requests in a minute, then answers how long to wait", () => {
    const limiter = new RateLimiter(3);
    expect([1, 2, 3].map(() => limiter.take("user:1", T0))).to.deep.equal([null, null, null]);
    expect(limiter.take("user:1", T0 + 15_000)).to.equal(45);
  });

  it("keeps refusing for the rest of the window", () => {
    const limiter = new RateLimiter(1);
    limiter.take("ip:1.2.3.4", T0);
    expect(limiter.take("ip:1.2.3.4", T0 + 1)).to.equal(60);
    expect(limiter.take("ip:1.2.3.4", T0 + MINUTE - 1)).to.equal(1);
  });

  it("counts each key on its own", () => {
    const limiter = new RateLimiter(1);
    expect(limiter.take("user:a", T0)).to.equal(null);
    expect(limiter.take("user:b", T0)).to.equal(null);
    expect(limiter.take("user:a", T0)).to.not.equal(null);
    expect(limiter.take("ip:10.0.0.1", T0)).to.equal(null);
  });

  it("starts counting afresh in the next minute window", () => {
    const limiter = new RateLimiter(2);
    limiter.take("user:1", T0);
    limiter.take("user:1", T0);
    expect(limiter.take("user:1", T0 + MINUTE - 1)).to.not.equal(null);
    expect(limiter.take("user:1", T0 + MINUTE)).to.equal(null);
    expect(limiter.take("user:1", T0 + MINUTE + 1)).to.equal(null);
    expect(limiter.take("user:1", T0 + MINUTE + 2)).to.equal(60);
  });

  it("is turned off by a limit of 0", () => {
    const limiter = new RateLimiter(0);
    for (let i = 0; i < 10_000; i += 1) expect(limiter.take("user:1", T0)).to.equal(null);
  });
});

describe("gateway request helpers (services/gateway/request.ts)", () => {
  describe("requestIdOf", () => {
    it("echoes a sane X-Request-Id", () => {
      for (const id of ["abc-123", "0f8fad5b-d9cb-469f-a165-70867728950e", "trace.1:span_2"]) {
        expect(requestIdOf(request({ "x-request-id": id }))).to.equal(id);
      }
    });

    it("generates an id when none is given", () => {
      const id = requestIdOf(request());
      expect(id).to.match(/^[0-9a-f-]{36}$/);
      expect(requestIdOf(request())).to.not.equal(id);
    });

    it("replaces an unsafe or oversized id instead of echoing it", () => {
      for (const unsafe of [
        "<script>alert(1)</script>",
        "a b",
        "line\r\nSet-Cookie: x=1",
        "x".repeat(129),
        "",
      ]) {
        const id = requestIdOf(request({ "x-request-id": unsafe }));
        expect(id, JSON.stringify(unsafe)).to.not.equal(unsafe);
        expect(id).to.match(/^[0-9a-f-]{36}$/);
      }
    });
  });

  describe("bearerToken", () => {
    it("reads the token of an Authorization: Bearer header", () => {
      expect(bearerToken(request({ authorization: "Bearer abc.def-ghi_jkl" }))).to.equal("abc.def-ghi_jkl");
    });

    it("accepts the scheme in any case and base64 padding", () => {
      expect(bearerToken(request({ authorization: "bearer dG9rZW4=" }))).to.equal("dG9rZW4=");
    });

    it("returns null without a header, for another scheme, or for a malformed value", () => {
      for (const authorization of [
        undefined,
        "",
        "Basic dXNlcjpwYXNz",
        "Bearer",
        "Bearer ",
        "Bearer a b",
        "Token abc",
      ]) {
        expect(bearerToken(request({ authorization })), String(authorization)).to.equal(null);
      }
    });
  });

  describe("clientAddress", () => {
    it("is the socket's remote address, or 'unknown'", () => {
      expect(clientAddress(request({}, { remoteAddress: "203.0.113.9" }))).to.equal("203.0.113.9");
      expect(clientAddress(request({}))).to.equal("unknown");
    });
  });

  describe("assertJsonBody", () => {
    it("accepts application/json, with a charset parameter or in any case", () => {
      for (const type of [
        "application/json",
        "application/json; charset=utf-8",
        "Application/JSON;charset=UTF-8",
      ]) {
        expect(
          () => assertJsonBody(request({ "content-type": type, "content-length": "2" })),
          type,
        ).not.to.throw();
      }
    });

    it("accepts structured JSON types such as application/merge-patch+json", () => {
      expect(() =>
        assertJsonBody(request({ "content-type": "application/merge-patch+json", "content-length": "2" })),
      ).not.to.throw();
    });

    it("refuses a body of another type with 415 UNSUPPORTED_MEDIA_TYPE", () => {
      for (const type of [
        "text/plain",
        "application/x-www-form-urlencoded",
        "application/jsonp",
        "text/json",
        "",
      ]) {
        const error = appErrorOf(() =>
          assertJsonBody(request({ "content-type": type, "content-length": "10" })),
        );
        expect(error.type, type).to.equal("UNSUPPORTED_MEDIA_TYPE");
        expect(error.code).to.equal(415);
      }
    });

    it("refuses a chunked body that is not JSON", () => {
      const error = appErrorOf(() =>
        assertJsonBody(request({ "content-type": "text/plain", "transfer-encoding": "chunked" })),
      );
      expect(error.type).to.equal("UNSUPPORTED_MEDIA_TYPE");
    });

    it("refuses JSON in a charset other than UTF-8", () => {
      for (const type of ["application/json; charset=latin1", 'application/json; charset="ISO-8859-1"']) {
        const error = appErrorOf(() =>
          assertJsonBody(request({ "content-type": type, "content-length": "2" })),
        );
        expect(error.type, type).to.equal("UNSUPPORTED_MEDIA_TYPE");
      }
      expect(() =>
        assertJsonBody(request({ "content-type": "application/json; charset=utf8", "content-length": "2" })),
      ).not.to.throw();
    });

    it("does not care about the type of a request without a body", () => {
      expect(() => assertJsonBody(request({}))).not.to.throw();
      expect(() =>
        assertJsonBody(request({ "content-type": "text/plain", "content-length": "0" })),
      ).not.to.throw();
    });

    it("ignores whatever body comes with a GET or DELETE, which the gateway never reads", () => {
      for (const method of ["GET", "DELETE", "HEAD"]) {
        const req = request({ "content-type": "text/plain", "content-length": "10" }, { method });
        expect(() => assertJsonBody(req), method).not.to.throw();
      }
    });

    it("reads a body with POST, PUT and PATCH only", () => {
      expect(["POST", "PUT", "PATCH", "GET", "DELETE", "HEAD", "OPTIONS"].filter(takesBody)).to.deep.equal([
        "POST",
        "PUT",
        "PATCH",
      ]);
    });
  });

  describe("buildParams", () => {
    const route: RouteSpec = {
      operationId: "listGoalActivities",
      method: "POST",
      path: "/goals/:id/activities",
      action: "activity.create",
      access: "user",
      tag: "Activities",
      summary: "test route",
      pathParams: { id: { type: "string" } },
      query: {
        type: "object",
        additionalProperties: false,
        properties: {
          limit: { type: "integer", minimum: 1, maximum: 100, default: 20 },
          dryRun: { type: "boolean" },
        },
      },
      body: { type: "object", additionalProperties: false, properties: { quantity: { type: "number" } } },
      status: 201,
      errors: [],
    };
    const routeWithoutQuery: RouteSpec = { ...route, query: undefined };

    it("merges path parameters, the coerced query (with its defaults) and the body into one object", () => {
      expect(buildParams(route, { id: "g1" }, { dryRun: "true" }, { quantity: 2 })).to.deep.equal({
        id: "g1",
        limit: 20,
        dryRun: true,
        quantity: 2,
      });
    });

    it("treats a missing body as an empty one", () => {
      expect(buildParams(routeWithoutQuery, { id: "g1" }, {}, undefined)).to.deep.equal({ id: "g1" });
      expect(buildParams(routeWithoutQuery, { id: "g1" }, {}, null)).to.deep.equal({ id: "g1" });
    });

    for (const [label, body] of [
      ["an array", [1, 2]],
      ["a string", "quantity=2"],
      ["a number", 42],
      ["a boolean", true],
    ] as const) {
      it(`refuses a body that is ${label} with VALIDATION_ERROR at /`, () => {
        const error = appErrorOf(() => buildParams(route, { id: "g1" }, {}, body));
        expect(error.type).to.equal("VALIDATION_ERROR");
        expect(error.code).to.equal(422);
        expect(detailsOf(error).map((detail) => detail.path)).to.deep.equal(["/"]);
      });
    }

    it("refuses a body key that would shadow a path parameter", () => {
      const error = appErrorOf(() =>
        buildParams(route, { id: "mine" }, {}, { id: "someone-elses", quantity: 1 }),
      );
      expect(error.type).to.equal("VALIDATION_ERROR");
      expect(detailsOf(error).map((detail) => detail.path)).to.deep.equal(["/id"]);
    });

    it("refuses a body key that would shadow a query parameter", () => {
      const error = appErrorOf(() => buildParams(route, { id: "g1" }, { dryRun: "true" }, { dryRun: false }));
      expect(detailsOf(error).map((detail) => detail.path)).to.deep.equal(["/dryRun"]);
    });

    it("refuses a bad query string with 400 BAD_REQUEST", () => {
      const error = appErrorOf(() => buildParams(route, { id: "g1" }, { limit: "lots" }, {}));
      expect(error.type).to.equal("BAD_REQUEST");
      expect(error.code).to.equal(400);
    });

    it("drops a body sent to a GET or DELETE route instead of passing it on", () => {
      const getRoute: RouteSpec = { ...routeWithoutQuery, method: "GET", body: undefined };
      expect(buildParams(getRoute, { id: "g1" }, {}, { role: "admin" })).to.deep.equal({ id: "g1" });
      expect(buildParams({ ...getRoute, method: "DELETE" }, { id: "g1" }, {}, [1])).to.deep.equal({
        id: "g1",
      });
    });

    it("lets a path parameter win over anything else of the same name", () => {
      const params = buildParams(routeWithoutQuery, { id: "from-path" }, { id: "from-query" }, {});
      expect(params.id).to.equal("from-path");
    });
  });
});
