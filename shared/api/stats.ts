import type { JsonSchema } from "../validation.ts";
import { dateSchema } from "./common.ts";
import type { RouteSpec } from "./route.ts";

const figures = {
  activities: { type: "integer", minimum: 0 },
  quantity: { type: "number" },
  goalsDue: {
    type: "integer",
    minimum: 0,
    description: "Goals with a period ending that day (week: in that week)",
  },
  goalsMet: { type: "integer", minimum: 0 },
  completionRate: {
    anyOf: [{ type: "number", minimum: 0, maximum: 1 }, { type: "null" }],
    description: "goalsMet / goalsDue; null when nothing was due",
  },
} as const;

const range: JsonSchema = {
  type: "object",
  additionalProperties: false,
  properties: { from: dateSchema, to: dateSchema },
};

const tag = "Stats";

export const statsRoutes = {
  daily: {
    operationId: "dailyStats",
    method: "GET",
    path: "/stats/daily",
    action: "aggregation.daily",
    access: "user",
    tag,
    summary: "One item per local day in [from, to] (at most 92 days; default the last 7 days)",
    description:
      "Days are closed when the user's local day ends; today's figures are live. Daily figures are kept 90 days.",
    query: range,
    status: 200,
    response: {
      type: "array",
      items: {
        type: "object",
        additionalProperties: false,
        required: ["date", ...Object.keys(figures)],
        properties: { date: dateSchema, ...figures },
      },
    },
    errors: ["INVALID_DATE_RANGE"],
  },
  weekly: {
    operationId: "weeklyStats",
    method: "GET",
    path: "/stats/weekly",
    action: "aggregation.weekly",
    access: "user",
    tag,
    summary:
      "One item per week (the user's week start) overlapping [from, to] (at most 53 weeks; default the last 4)",
    query: range,
    status: 200,
    response: {
      type: "array",
      items: {
        type: "object",
        additionalProperties: false,
        required: ["weekStartDate", ...Object.keys(figures)],
        properties: { weekStartDate: dateSchema, ...figures },
      },
    },
    errors: ["INVALID_DATE_RANGE"],
  },
} satisfies Record<string, RouteSpec>;

export const JOB_NAMES = [
  "close-days",
  "verify-streaks",
  "weekly-summaries",
  "at-risk-reminders",
  "retention",
] as const;

export const adminRoutes = {
  runJob: {
    operationId: "runJob",
    method: "POST",
    path: "/admin/jobs/:name/run",
    action: "aggregation.runJob",
    access: "admin",
    tag: "Operations",
    summary: "Run a scheduled job now",
    description:
      "Jobs are idempotent: running one again changes nothing more. Each run is recorded in job_runs. Scheduled runs happen once per slot across replicas.",
    pathParams: { name: { type: "string", minLength: 1, maxLength: 64 } },
    status: 200,
    response: {
      type: "object",
      additionalProperties: false,
      required: ["job", "startedAt", "finishedAt", "processed"],
      properties: {
        job: { enum: [...JOB_NAMES] },
        startedAt: { type: "string", format: "date-time" },
        finishedAt: { type: "string", format: "date-time" },
        processed: { type: "integer", minimum: 0 },
      },
    },
    errors: ["NOT_FOUND"],
  },
} satisfies Record<string, RouteSpec>;
