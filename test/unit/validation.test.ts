import { expect } from "chai";
import { type Context, ServiceBroker } from "moleculer";
import { AppError, type ErrorDetail } from "../../shared/errors.ts";
import { assertValid, type JsonSchema, jsonSchemaValidator, parseQuery } from "../../shared/validation.ts";

/** A body schema like the ones in shared/api: closed objects, typed leaves. */
function signupSchema(): JsonSchema {
  return {
    type: "object",
    additionalProperties: false,
    required: ["email", "password"],
    properties: {
      email: { type: "string", format: "email" },
      password: { type: "string", minLength: 8 },
      timezone: { type: "string", default: "UTC" },
      profile: {
        type: "object",
        additionalProperties: false,
        properties: { displayName: { type: "string", maxLength: 10 } },
      },
    },
  };
}

function listQuerySchema(): JsonSchema {
  return {
    type: "object",
    additionalProperties: false,
    properties: {
      limit: { type: "integer", minimum: 1, maximum: 100, default: 20 },
      unread: { type: "boolean" },
      cursor: { type: "string" },
    },
  };
}

/** Runs the block and returns the AppError it throws (fails the test otherwise). */
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

function pathsOf(error: AppError): string[] {
  return detailsOf(error).map((detail) => detail.path);
}

describe("validation (shared/validation.ts)", () => {
  describe("assertValid: request bodies", () => {
    it("accepts a valid body", () => {
      expect(() =>
        assertValid(signupSchema(), { email: "ann@example.com", password: "long enough" }),
      ).not.to.throw();
    });

    it("rejects an unknown property with VALIDATION_ERROR (422) and the path of that property", () => {
      const error = appErrorOf(() =>
        assertValid(signupSchema(), { email: "ann@example.com", password: "long enough", isAdmin: true }),
      );
      expect(error.type).to.equal("VALIDATION_ERROR");
      expect(error.code).to.equal(422);
      expect(pathsOf(error)).to.deep.equal(["/isAdmin"]);
    });

    it("gives the full path of an unknown property in a nested object", () => {
      const error = appErrorOf(() =>
        assertValid(signupSchema(), {
          email: "ann@example.com",
          password: "long enough",
          profile: { displayName: "Ann", avatar: "x" },
        }),
      );
      expect(pathsOf(error)).to.deep.equal(["/profile/avatar"]);
    });

    it('rejects an operator object such as {"email": {"$ne": null}}', () => {
      const error = appErrorOf(() =>
        assertValid(signupSchema(), { email: { $ne: null }, password: { $gt: "" } }),
      );
      expect(error.type).to.equal("VALIDATION_ERROR");
      expect(pathsOf(error)).to.include.members(["/email", "/password"]);
    });

    it("names a missing required property by its own path", () => {
      const error = appErrorOf(() => assertValid(signupSchema(), { email: "ann@example.com" }));
      expect(pathsOf(error)).to.deep.equal(["/password"]);
    });

    it("lists every failing path, not only the first", () => {
      const error = appErrorOf(() =>
        assertValid(signupSchema(), {
          email: "not an email",
          password: "short",
          profile: { displayName: "far too long a name" },
          extra: 1,
        }),
      );
      expect(pathsOf(error)).to.have.members(["/email", "/password", "/profile/displayName", "/extra"]);
      for (const detail of detailsOf(error))
        expect(detail.message).to.be.a("string").with.length.greaterThan(0);
    });

    it("reports a body that is not an object at the root path /", () => {
      const error = appErrorOf(() => assertValid(signupSchema(), ["email"]));
      expect(pathsOf(error)).to.deep.equal(["/"]);
    });

    it("fills in defaults for properties that were left out", () => {
      const body: Record<string, unknown> = { email: "ann@example.com", password: "long enough" };
      assertValid(signupSchema(), body);
      expect(body.timezone).to.equal("UTC");
    });

    it("does not coerce types in a body: the string '10' is not a number", () => {
      const schema: JsonSchema = {
        type: "object",
        additionalProperties: false,
        properties: { quantity: { type: "number" } },
      };
      const error = appErrorOf(() => assertValid(schema, { quantity: "10" }));
      expect(pathsOf(error)).to.deep.equal(["/quantity"]);
    });
  });

  describe("parseQuery: query strings", () => {
    it('coerces "10" to the number 10 and "true" to true', () => {
      expect(parseQuery(listQuerySchema(), { limit: "10", unread: "true" })).to.deep.equal({
        limit: 10,
        unread: true,
      });
    });

    it("applies defaults and leaves the caller's object untouched", () => {
      const raw = { cursor: "abc" };
      expect(parseQuery(listQuerySchema(), raw)).to.deep.equal({ cursor: "abc", limit: 20 });
      expect(raw).to.deep.equal({ cursor: "abc" });
    });

    for (const [label, raw, path] of [
      ["a non-number limit", { limit: "ten" }, "/limit"],
      ["a limit out of range", { limit: "1000" }, "/limit"],
      ["an unknown parameter", { sort: "asc" }, "/sort"],
      ["an operator object", { cursor: { $gt: "" } }, "/cursor"],
    ] as const) {
      it(`throws BAD_REQUEST (400) for ${label}, naming ${path}`, () => {
        const error = appErrorOf(() => parseQuery(listQuerySchema(), { ...raw }));
        expect(error.type).to.equal("BAD_REQUEST");
        expect(error.code).to.equal(400);
        expect(pathsOf(error)).to.include(path);
      });
    }

    it("coerces a query even when the same schema object was validated as a body before", () => {
      // The compiled-validator cache must not hand the strict (body) validator to parseQuery.
      const schema = listQuerySchema();
      assertValid(schema, { limit: 5 });
      expect(parseQuery(schema, { limit: "10" })).to.deep.equal({ limit: 10 });
    });

    it("does not coerce a body even when the same schema object parsed a query before", () => {
      // …nor the coercing (query) validator to assertValid.
      const schema = listQuerySchema();
      parseQuery(schema, { limit: "5" });
      const error = appErrorOf(() => assertValid(schema, { limit: "10" }));
      expect(error.type).to.equal("VALIDATION_ERROR");
    });
  });

  describe("jsonSchemaValidator: the Moleculer middleware", () => {
    let broker: ServiceBroker;
    const seen: unknown[] = [];

    before(async () => {
      broker = new ServiceBroker({ logger: false, validator: false, middlewares: [jsonSchemaValidator] });
      broker.createService({
        name: "greeter",
        actions: {
          hello: {
            params: {
              type: "object",
              additionalProperties: false,
              required: ["name"],
              properties: {
                name: { type: "string", minLength: 1 },
                times: { type: "integer", minimum: 1, default: 1 },
              },
            },
            handler(ctx: Context<{ name: string; times: number }>) {
              seen.push(ctx.params);
              return `hello ${ctx.params.name} x${ctx.params.times}`;
            },
          },
          defaults: {
            params: {
              type: "object",
              additionalProperties: false,
              properties: { limit: { type: "integer", default: 20 } },
            },
            handler(ctx: Context<{ limit: number }>) {
              return ctx.params;
            },
          },
          unchecked: {
            handler() {
              return "no schema, no check";
            },
          },
        },
      });
      await broker.start();
    });

    after(async () => {
      await broker.stop();
    });

    it("lets valid params through to the handler, with defaults filled in", async () => {
      expect(await broker.call("greeter.hello", { name: "Ann" })).to.equal("hello Ann x1");
    });

    it("rejects bad params with an AppError VALIDATION_ERROR, status 422, listing each failing path", async () => {
      const before = seen.length;
      let caught: unknown;
      try {
        await broker.call("greeter.hello", { name: { $ne: null }, times: 0, admin: true });
      } catch (error) {
        caught = error;
      }
      expect(caught).to.be.instanceOf(AppError);
      const error = caught as AppError;
      expect(error.type).to.equal("VALIDATION_ERROR");
      expect(error.code).to.equal(422);
      expect(pathsOf(error)).to.have.members(["/name", "/times", "/admin"]);
      expect(seen.length, "the handler must not run").to.equal(before);
    });

    it("leaves actions without a JSON Schema alone (Moleculer's own $node actions keep working)", async () => {
      expect(await broker.call("greeter.unchecked", { anything: 1 })).to.equal("no schema, no check");
      expect(await broker.call("$node.health")).to.be.an("object");
    });

    it("gives an action called without params the schema's defaults", async () => {
      expect(await broker.call("greeter.defaults")).to.deep.equal({ limit: 20 });
    });
  });
});
