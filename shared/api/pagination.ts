import type { JsonSchema } from "../validation.ts";

export const limitSchema = { type: "integer", minimum: 1, maximum: 100, default: 20 } as const;
export const cursorSchema = {
  type: "string",
  minLength: 1,
  maxLength: 200,
  pattern: "^[A-Za-z0-9_-]+$",
} as const;

/** `{items, nextCursor}` around an item schema. */
export function pageOf(item: JsonSchema): JsonSchema {
  return {
    type: "object",
    additionalProperties: false,
    required: ["items", "nextCursor"],
    properties: {
      items: { type: "array", items: item },
      nextCursor: { anyOf: [{ type: "string" }, { type: "null" }] },
    },
  };
}
