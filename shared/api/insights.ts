import type { RouteSpec } from "./route.ts";

export const insightRoutes = {
  recommendations: {
    operationId: "listRecommendations",
    method: "GET",
    path: "/recommendations",
    action: "goals.recommendations",
    access: "user",
    tag: "Goals",
    summary: "Suggestions drawn from the user's own history",
    description:
      "Kinds: start_with_template (no goals yet), try_template (a category the user has nothing in), lower_target (a goal met less often than not for two weeks), revive_goal (nothing met for two weeks), keep_going (a streak of 7 or more).",
    status: 200,
    response: {
      type: "array",
      items: {
        type: "object",
        additionalProperties: false,
        required: ["kind", "message"],
        properties: {
          kind: {
            enum: ["start_with_template", "try_template", "lower_target", "revive_goal", "keep_going"],
          },
          message: { type: "string" },
          templateId: { type: "string" },
          goalId: { type: "string" },
        },
      },
    },
    errors: [],
  },
  export: {
    operationId: "exportData",
    method: "GET",
    path: "/export",
    action: "goals.export",
    access: "user",
    tag: "Goals",
    summary: "Every goal and activity of the user, as JSON (default) or streamed CSV with a header row",
    description:
      "CSV columns: type (goal | activity), id, goalId, title, pattern, status, startDate, endDate, target, unit, quantity, note, occurredAt, localDate, createdAt. Goal rows come first.",
    query: {
      type: "object",
      additionalProperties: false,
      properties: { format: { enum: ["json", "csv"], default: "json" } },
    },
    status: 200,
    response: {
      type: "object",
      required: ["exportedAt", "goals", "activities"],
      properties: {
        exportedAt: { type: "string", format: "date-time" },
        goals: { type: "array", items: { type: "object" } },
        activities: { type: "array", items: { type: "object" } },
      },
    },
    extraMediaTypes: ["text/csv"],
    errors: [],
  },
} satisfies Record<string, RouteSpec>;
