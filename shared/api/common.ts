import { ERROR_CODES } from "../errors.ts";
import type { JsonSchema } from "../validation.ts";

export const idSchema = { type: "string", minLength: 1, maxLength: 64, pattern: "^[A-Za-z0-9_-]+$" } as const;
export const instantSchema = { type: "string", format: "date-time" } as const;
export const dateSchema = {
  type: "string",
  format: "date",
  description: "A calendar date, YYYY-MM-DD",
} as const;

export const errorEnvelopeSchema: JsonSchema = {
  type: "object",
  additionalProperties: false,
  required: ["error"],
  properties: {
    error: {
      type: "object",
      additionalProperties: false,
      required: ["code", "message", "status", "requestId"],
      properties: {
        code: { type: "string", enum: Object.keys(ERROR_CODES) },
        message: { type: "string" },
        status: { type: "integer" },
        details: {
          type: "array",
          items: {
            type: "object",
            additionalProperties: false,
            required: ["path", "message"],
            properties: { path: { type: "string" }, message: { type: "string" } },
          },
        },
        requestId: { type: "string" },
      },
    },
  },
};
