import type { RouteSpec } from "./route.ts";

const templateSchema = {
  type: "object",
  additionalProperties: false,
  required: ["id", "category", "title", "description", "pattern", "tags"],
  properties: {
    id: { type: "string" },
    category: { type: "string" },
    title: { type: "string" },
    description: { type: "string" },
    pattern: { enum: ["daily", "frequency", "target", "limit", "milestone"] },
    target: { type: "number" },
    unit: { type: "string" },
    timesPerPeriod: { type: "integer" },
    period: { enum: ["day", "week", "month"] },
    tags: { type: "array", items: { type: "string" } },
  },
} as const;

export const templateRoutes = {
  list: {
    operationId: "listTemplates",
    method: "GET",
    path: "/templates",
    action: "goals.templates",
    access: "user",
    tag: "Goals",
    summary: "Goal templates: create one with POST /goals {templateId, ...overrides}",
    status: 200,
    response: {
      type: "object",
      additionalProperties: false,
      required: ["items"],
      properties: { items: { type: "array", items: templateSchema } },
    },
    errors: [],
  },
} satisfies Record<string, RouteSpec>;
