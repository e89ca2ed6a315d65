import { expect } from "chai";
import { Errors } from "moleculer";
import { AppError, ERROR_CODES } from "../../shared/errors.ts";
import { toErrorResponse } from "../../services/gateway/error-response.ts";

const requestId = "req-123";

describe("error responses (services/gateway/error-response.ts)", () => {
  describe("an AppError keeps its code", () => {
    it("becomes the envelope with its code, status, message, details and the request id", () => {
      const error = new AppError("VALIDATION_ERROR", undefined, {
        details: [{ path: "/target", message: "must be > 0" }],
      });
      const response = toErrorResponse(error, requestId);
      expect(response.status).to.equal(422);
      expect(response.internal).to.equal(false);
      expect(response.headers).to.deep.equal({});
      expect(response.body).to.deep.equal({
        error: {
          code: "VALIDATION_ERROR",
          message: ERROR_CODES.VALIDATION_ERROR.message,
          status: 422,
          details: [{ path: "/target", message: "must be > 0" }],
          requestId,
        },
      });
    });

    it("keeps a custom message and leaves details out when there are none", () => {
      const response = toErrorResponse(new AppError("GOAL_NOT_FOUND", "Goal not found"), requestId);
      expect(response.status).to.equal(404);
      expect(response.body).to.deep.equal({
        error: { code: "GOAL_NOT_FOUND", message: "Goal not found", status: 404, requestId },
      });
    });

    for (const code of Object.keys(ERROR_CODES) as Array<keyof typeof ERROR_CODES>) {
      if (code === "INTERNAL_ERROR") continue;
      it(`${code} answers ${ERROR_CODES[code].status}`, () => {
        const response = toErrorResponse(new AppError(code), requestId);
        expect(response.status).to.equal(ERROR_CODES[code].status);
        expect(response.body.error.code).to.equal(code);
        expect(response.body.error.status).to.equal(ERROR_CODES[code].status);
      });
    }

    it("survives the transporter: a plain object with the same fields is treated the same", () => {
      // What a MoleculerError looks like after a round trip through NATS and the error regenerator.
      const wire = {
        name: "AppError",
        message: "Too many active goals",
        code: 409,
        type: "GOAL_QUOTA_EXCEEDED",
      };
      const response = toErrorResponse(wire, requestId);
      expect(response.status).to.equal(409);
      expect(response.body.error.code).to.equal("GOAL_QUOTA_EXCEEDED");
    });
  });

  describe("RATE_LIMITED", () => {
    it("sets Retry-After to the seconds the error carries", () => {
      const response = toErrorResponse(
        new AppError("RATE_LIMITED", undefined, { retryAfterSeconds: 17 }),
        requestId,
      );
      expect(response.status).to.equal(429);
      expect(response.headers["Retry-After"]).to.equal("17");
    });

    it("still sets a Retry-After when the error carries none", () => {
      const response = toErrorResponse(new AppError("RATE_LIMITED"), requestId);
      expect(Number(response.headers["Retry-After"])).to.be.greaterThan(0);
    });

    it("no other code sets Retry-After", () => {
      expect(toErrorResponse(new AppError("UNAUTHORIZED"), requestId).headers).to.not.have.property(
        "Retry-After",
      );
    });
  });

  describe("errors of the request body stage (body-parser)", () => {
    for (const [type, status, code] of [
      ["entity.too.large", 413, "PAYLOAD_TOO_LARGE"],
      ["entity.parse.failed", 400, "BAD_REQUEST"],
      ["entity.verify.failed", 400, "BAD_REQUEST"],
      ["request.aborted", 400, "BAD_REQUEST"],
      ["request.size.invalid", 400, "BAD_REQUEST"],
      ["charset.unsupported", 415, "UNSUPPORTED_MEDIA_TYPE"],
      ["encoding.unsupported", 415, "UNSUPPORTED_MEDIA_TYPE"],
    ] as const) {
      it(`${type} → ${status} ${code}, without the parser's own message`, () => {
        const parserError = Object.assign(new Error(`Unexpected token } in JSON at position 7 (${type})`), {
          type,
          status,
        });
        const response = toErrorResponse(parserError, requestId);
        expect(response.status).to.equal(status);
        expect(response.body.error.code).to.equal(code);
        expect(response.body.error.message).to.not.contain("Unexpected token");
        expect(response.internal).to.equal(false);
      });
    }
  });

  describe("a service that is not there or not answering", () => {
    const unavailable: Array<[string, Error]> = [
      ["ServiceNotFoundError", new Errors.ServiceNotFoundError({ action: "goals.create", nodeID: "node-1" })],
      ["ServiceNotAvailableError", new Errors.ServiceNotAvailableError({ action: "goals.create" })],
      ["RequestTimeoutError", new Errors.RequestTimeoutError({ action: "goals.create", nodeID: "node-1" })],
      ["QueueIsFullError", new Errors.QueueIsFullError({ action: "goals.create", nodeID: "node-1" })],
    ];
    for (const [name, error] of unavailable) {
      it(`${name} → 503 SERVICE_UNAVAILABLE, not naming the action or node`, () => {
        const response = toErrorResponse(error, requestId);
        expect(response.status).to.equal(503);
        expect(response.body.error.code).to.equal("SERVICE_UNAVAILABLE");
        expect(response.body.error.message).to.not.contain("goals.create");
        expect(response.body.error.message).to.not.contain("node-1");
      });
    }

    it("the transporter is disconnected (BrokerDisconnectedError: the request was never sent) → 503", () => {
      // Moleculer throws it from prepublish when NATS is down. Its typings ask for a message; it sets its own.
      const response = toErrorResponse(new Errors.BrokerDisconnectedError("ignored"), requestId);
      expect(response.status).to.equal(503);
      expect(response.body.error.code).to.equal("SERVICE_UNAVAILABLE");
      expect(response.internal).to.equal(false);
    });
  });

  describe("a database that cannot be reached", () => {
    for (const name of ["MongoServerSelectionError", "MongoNetworkError", "MongoNotConnectedError"]) {
      it(`${name} (as it crosses the transporter) → 503 SERVICE_UNAVAILABLE, not naming the address`, () => {
        const error = { name, message: "connect ECONNREFUSED 127.0.0.1:27017" };
        const response = toErrorResponse(error, requestId);
        expect(response.status).to.equal(503);
        expect(response.body.error.code).to.equal("SERVICE_UNAVAILABLE");
        expect(JSON.stringify(response.body)).to.not.contain("ECONNREFUSED");
        expect(response.internal).to.equal(false);
      });
    }
  });

  describe("anything else is our failure, and is hidden", () => {
    it("a plain Error → 500 INTERNAL_ERROR without the original message, flagged internal", () => {
      const response = toErrorResponse(new Error("secret db password in message"), requestId);
      expect(response.status).to.equal(500);
      expect(response.internal).to.equal(true);
      expect(response.body.error.code).to.equal("INTERNAL_ERROR");
      expect(response.body.error.requestId).to.equal(requestId);
      expect(JSON.stringify(response.body)).to.not.contain("secret");
      expect(JSON.stringify(response.body)).to.not.contain("password");
    });

    it("an AppError INTERNAL_ERROR with a revealing message is hidden too", () => {
      const response = toErrorResponse(
        new AppError("INTERNAL_ERROR", "mongo at 10.0.0.5 refused"),
        requestId,
      );
      expect(response.status).to.equal(500);
      expect(JSON.stringify(response.body)).to.not.contain("10.0.0.5");
    });

    it("a Moleculer error with a type of its own is not trusted", () => {
      const error = new Errors.MoleculerServerError("disk full at /var/lib", 500, "DISK_FULL");
      const response = toErrorResponse(error, requestId);
      expect(response.status).to.equal(500);
      expect(JSON.stringify(response.body)).to.not.contain("/var/lib");
    });

    for (const [label, value] of [
      ["null", null],
      ["undefined", undefined],
      ["a string", "boom"],
      ["a number", 42],
    ] as const) {
      it(`${label} thrown → 500 INTERNAL_ERROR`, () => {
        const response = toErrorResponse(value, requestId);
        expect(response.status).to.equal(500);
        expect(response.body.error.code).to.equal("INTERNAL_ERROR");
      });
    }

    it("never throws, even for an error whose type names an Object.prototype member", () => {
      // e.g. "constructor": a plain-object lookup table would find Object.prototype.constructor.
      for (const type of ["constructor", "toString", "__proto__", "hasOwnProperty"]) {
        const error = Object.assign(new Error("odd"), { type });
        let response: ReturnType<typeof toErrorResponse> | undefined;
        expect(() => {
          response = toErrorResponse(error, requestId);
        }, type).not.to.throw();
        expect(response?.status, type).to.equal(500);
        expect(response?.body.error.code, type).to.equal("INTERNAL_ERROR");
      }
    });
  });

  it("an unknown route (moleculer-web's NotFoundError) → 404 NOT_FOUND", () => {
    const notFound = Object.assign(new Error("Not found"), {
      name: "NotFoundError",
      code: 404,
      type: "NOT_FOUND",
    });
    const response = toErrorResponse(notFound, requestId);
    expect(response.status).to.equal(404);
    expect(response.body.error.code).to.equal("NOT_FOUND");
  });
});
