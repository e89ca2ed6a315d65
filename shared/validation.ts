import { Ajv, type ErrorObject, type ValidateFunction } from "ajv";
import addFormats from "ajv-formats";
import type { Middleware, Service } from "moleculer";
import { AppError, type ErrorDetail } from "./errors.ts";

export type JsonSchema = Record<string, unknown>;

function createAjv(coerceTypes: boolean): Ajv {
  // strictRequired is off: oneOf and if/then branches name properties declared beside them, not inside.
  const ajv = new Ajv({
    allErrors: true,
    strict: true,
    strictRequired: false,
    useDefaults: true,
    coerceTypes,
  });
  addFormats.default(ajv);
  return ajv;
}

/** Bodies and action params: exact JSON types, defaults applied. */
const strictAjv = createAjv(false);
/** Query strings arrive as text: numbers and booleans are coerced before the same rules apply. */
const queryAjv = createAjv(true);

function pointerOf(error: ErrorObject): string {
  const params = error.params as { additionalProperty?: string; missingProperty?: string };
  const child = params.additionalProperty ?? params.missingProperty;
  return child === undefined ? error.instancePath : `${error.instancePath}/${child}`;
}

export function toDetails(errors: ErrorObject[] | null | undefined): ErrorDetail[] {
  return (errors ?? []).map((error) => ({
    path: pointerOf(error) || "/",
    message: error.message ?? "is invalid",
  }));
}

/** Compiled validators per ajv instance: one schema object can serve both a body and a query. */
const compiled = new Map<Ajv, WeakMap<JsonSchema, ValidateFunction>>([
  [strictAjv, new WeakMap()],
  [queryAjv, new WeakMap()],
]);

function compile(ajv: Ajv, schema: JsonSchema): ValidateFunction {
  const cache = compiled.get(ajv)!;
  let validate = cache.get(schema);
  if (!validate) {
    validate = ajv.compile(schema);
    cache.set(schema, validate);
  }
  return validate;
}

/** Validates (and fills defaults into) a value; throws VALIDATION_ERROR listing every failing path. */
export function assertValid<T>(schema: JsonSchema, value: unknown): asserts value is T {
  const validate = compile(strictAjv, schema);
  if (!validate(value))
    throw new AppError("VALIDATION_ERROR", undefined, { details: toDetails(validate.errors) });
}

/** Coerces and validates a parsed query string; a bad query string is a BAD_REQUEST. */
export function parseQuery(schema: JsonSchema, query: Record<string, unknown>): Record<string, unknown> {
  const copy = { ...query };
  const validate = compile(queryAjv, schema);
  if (!validate(copy)) {
    throw new AppError("BAD_REQUEST", "The query string is invalid", { details: toDetails(validate.errors) });
  }
  return copy;
}

/**
 * Replaces Moleculer's built-in validator: an action whose `params` is a JSON Schema gets its params
 * validated by ajv before the handler runs. Schemas close every object (`additionalProperties: false`)
 * and type every leaf, so an operator object such as `{"$ne": null}` can never reach a query.
 */
export const jsonSchemaValidator: Middleware = {
  name: "JsonSchemaValidator",
  localAction(handler, action) {
    const schema = action.params as JsonSchema | undefined;
    // Moleculer's own `$node.*` actions carry fastest-validator params: only JSON Schemas are ours.
    if (!schema || typeof schema !== "object" || schema.type !== "object") return handler;
    const validate = compile(strictAjv, schema);
    return function validateParams(this: Service, ctx) {
      const params = ctx.params ?? {};
      if (!validate(params)) {
        return Promise.reject(
          new AppError("VALIDATION_ERROR", undefined, { details: toDetails(validate.errors) }),
        );
      }
      return handler.call(this, ctx);
    };
  },
};
