import type { JsonSchema } from "../validation.ts";
import { dateSchema, idSchema, instantSchema } from "./common.ts";
import { cursorSchema, limitSchema, pageOf } from "./pagination.ts";
import type { RouteSpec } from "./route.ts";

const nullableDate = { anyOf: [dateSchema, { type: "null" }] };
const unitSchema = { type: "string", minLength: 1, maxLength: 32 } as const;
const milestoneInput = {
  type: "object",
  additionalProperties: false,
  required: ["title"],
  properties: { id: idSchema, title: { type: "string", minLength: 1, maxLength: 120 } },
} as const;

/** Fields every pattern shares, then each pattern's own: which apply is checked per pattern (422 INVALID_GOAL_PATTERN). */
const goalFields = {
  title: { type: "string", minLength: 1, maxLength: 120 },
  description: { type: "string", maxLength: 2000 },
  tags: {
    type: "array",
    maxItems: 10,
    uniqueItems: true,
    items: { type: "string", minLength: 1, maxLength: 32 },
  },
  startDate: dateSchema,
  endDate: nullableDate,
  target: {
    type: "number",
    exclusiveMinimum: 0,
    maximum: 1e9,
    description: "daily, frequency (per day), target",
  },
  unit: unitSchema,
  timesPerPeriod: { type: "integer", minimum: 1, maximum: 31, description: "frequency" },
  period: { type: "string", description: "frequency: week | month; limit: day | week" },
  limit: { type: "number", minimum: 0, maximum: 1e9, description: "limit" },
  milestones: { type: "array", minItems: 1, maxItems: 50, items: milestoneInput, description: "milestone" },
} as const;

export const goalCreateBody: JsonSchema = {
  type: "object",
  additionalProperties: false,
  properties: {
    pattern: { type: "string", description: "daily | frequency | target | limit | milestone" },
    templateId: { type: "string", minLength: 1, maxLength: 64 },
    ...goalFields,
  },
  if: { not: { required: ["templateId"] } },
  then: { required: ["title", "pattern"] },
};

export const goalPatchBody: JsonSchema = {
  type: "object",
  additionalProperties: false,
  properties: {
    ...goalFields,
    version: { type: "integer", minimum: 1, description: "or the If-Match header" },
  },
};

const streakSchema = {
  anyOf: [
    {
      type: "object",
      additionalProperties: false,
      required: ["current", "longest", "lastMetDate"],
      properties: {
        current: { type: "integer", minimum: 0 },
        longest: { type: "integer", minimum: 0 },
        lastMetDate: nullableDate,
      },
    },
    { type: "null" },
  ],
};

export const progressSchema = {
  type: "object",
  additionalProperties: false,
  required: ["periodStartDate", "periodEndDate", "value", "goal", "met", "percent"],
  properties: {
    periodStartDate: dateSchema,
    periodEndDate: dateSchema,
    value: { type: "number" },
    goal: { type: "number" },
    met: { type: "boolean" },
    percent: { type: "number" },
    expectedByNow: { type: "number" },
    projectedDate: nullableDate,
  },
} as const;

export const goalSchema: JsonSchema = {
  type: "object",
  additionalProperties: false,
  required: [
    "id",
    "title",
    "description",
    "tags",
    "pattern",
    "startDate",
    "endDate",
    "templateId",
    "status",
    "version",
    "createdAt",
    "updatedAt",
    "progress",
    "streak",
    "strength",
  ],
  properties: {
    id: idSchema,
    title: { type: "string" },
    description: { type: "string" },
    tags: { type: "array", items: { type: "string" } },
    pattern: { enum: ["daily", "frequency", "target", "limit", "milestone"] },
    target: { type: "number" },
    unit: { type: "string" },
    timesPerPeriod: { type: "integer" },
    period: { enum: ["day", "week", "month"] },
    limit: { type: "number" },
    milestones: {
      type: "array",
      items: {
        type: "object",
        additionalProperties: false,
        required: ["id", "title", "completedAt"],
        properties: {
          id: idSchema,
          title: { type: "string" },
          completedAt: { anyOf: [instantSchema, { type: "null" }] },
        },
      },
    },
    startDate: dateSchema,
    endDate: nullableDate,
    templateId: { anyOf: [{ type: "string" }, { type: "null" }] },
    status: { enum: ["active", "completed", "archived"] },
    version: { type: "integer", minimum: 1 },
    createdAt: instantSchema,
    updatedAt: instantSchema,
    progress: { anyOf: [progressSchema, { type: "null" }] },
    streak: streakSchema,
    strength: { anyOf: [{ type: "number", minimum: 0, maximum: 1 }, { type: "null" }] },
  },
};

const goalIdParam = { id: idSchema };
const tag = "Goals";

export const goalRoutes = {
  create: {
    operationId: "createGoal",
    method: "POST",
    path: "/goals",
    action: "goals.create",
    access: "user",
    tag,
    summary: "Create a goal, from scratch or from a template",
    description:
      "`{templateId, ...overrides}` starts from a template. Fields that do not belong to the pattern answer 422 INVALID_GOAL_PATTERN. `startDate` defaults to the user's today.",
    body: goalCreateBody,
    status: 201,
    response: goalSchema,
    errors: ["INVALID_GOAL_PATTERN", "INVALID_DATE_RANGE", "GOAL_QUOTA_EXCEEDED", "NOT_FOUND"],
  },
  list: {
    operationId: "listGoals",
    method: "GET",
    path: "/goals",
    action: "goals.list",
    access: "user",
    tag,
    summary: "The user's goals, newest first (archived ones only when asked for by status)",
    query: {
      type: "object",
      additionalProperties: false,
      properties: {
        status: { enum: ["active", "completed", "archived"] },
        pattern: { enum: ["daily", "frequency", "target", "limit", "milestone"] },
        tag: { type: "string", minLength: 1, maxLength: 32 },
        limit: limitSchema,
        cursor: cursorSchema,
      },
    },
    status: 200,
    response: pageOf(goalSchema),
    errors: [],
  },
  get: {
    operationId: "getGoal",
    method: "GET",
    path: "/goals/:id",
    action: "goals.get",
    access: "user",
    tag,
    summary: "A goal with its progress, streak and strength",
    pathParams: goalIdParam,
    status: 200,
    response: goalSchema,
    errors: ["GOAL_NOT_FOUND"],
  },
  update: {
    operationId: "updateGoal",
    method: "PATCH",
    path: "/goals/:id",
    action: "goals.update",
    access: "user",
    tag,
    summary: "Change a goal (optimistic: If-Match or version)",
    description:
      "Send the version you read as `If-Match: <version>` or as `version`; a stale one answers 409 VERSION_CONFLICT. Raising a completed goal's target reopens it. Milestones given with their `id` keep their completion.",
    pathParams: goalIdParam,
    headers: {
      "If-Match": {
        description: 'The goal version the change is based on (3, "3" or W/"3")',
        schema: { type: "string", pattern: '^(W/)?"?[1-9][0-9]{0,8}"?$' },
      },
    },
    body: goalPatchBody,
    status: 200,
    response: goalSchema,
    errors: [
      "GOAL_NOT_FOUND",
      "GOAL_ARCHIVED",
      "VERSION_CONFLICT",
      "INVALID_GOAL_PATTERN",
      "INVALID_DATE_RANGE",
    ],
  },
  remove: {
    operationId: "deleteGoal",
    method: "DELETE",
    path: "/goals/:id",
    action: "goals.remove",
    access: "user",
    tag,
    summary: "Delete a goal with its activities, streak and stats",
    pathParams: goalIdParam,
    status: 204,
    errors: ["GOAL_NOT_FOUND"],
  },
  archive: {
    operationId: "archiveGoal",
    method: "POST",
    path: "/goals/:id/archive",
    action: "goals.archive",
    access: "user",
    tag,
    summary: "Archive: keeps history, takes no logs, leaves the quota",
    pathParams: goalIdParam,
    status: 200,
    response: goalSchema,
    errors: ["GOAL_NOT_FOUND"],
  },
  unarchive: {
    operationId: "unarchiveGoal",
    method: "POST",
    path: "/goals/:id/unarchive",
    action: "goals.unarchive",
    access: "user",
    tag,
    summary: "Bring an archived goal back (counts toward the quota again)",
    pathParams: goalIdParam,
    status: 200,
    response: goalSchema,
    errors: ["GOAL_NOT_FOUND", "GOAL_QUOTA_EXCEEDED"],
  },
  archiveMany: {
    operationId: "archiveGoals",
    method: "POST",
    path: "/goals/archive",
    action: "goals.archiveMany",
    access: "user",
    tag,
    summary: "Archive many goals; ids not owned are ignored",
    body: {
      type: "object",
      additionalProperties: false,
      required: ["ids"],
      properties: { ids: { type: "array", minItems: 1, maxItems: 100, items: idSchema } },
    },
    status: 200,
    response: {
      type: "object",
      additionalProperties: false,
      required: ["archived"],
      properties: { archived: { type: "integer", minimum: 0 } },
    },
    errors: [],
  },
} satisfies Record<string, RouteSpec>;

const seriesItem = {
  type: "object",
  additionalProperties: false,
  required: ["startDate", "endDate", "value", "met", "skipped"],
  properties: {
    startDate: dateSchema,
    endDate: dateSchema,
    value: { type: "number" },
    met: { type: "boolean" },
    skipped: { type: "boolean" },
  },
} as const;

const skipsResult: JsonSchema = {
  type: "object",
  additionalProperties: false,
  required: ["skips"],
  properties: { skips: { type: "array", items: dateSchema } },
};

export const goalHistoryRoutes = {
  progress: {
    operationId: "goalProgress",
    method: "GET",
    path: "/goals/:id/progress",
    action: "goals.progress",
    access: "user",
    tag,
    summary: "The current period and one series item per period in [from, to] (at most 366 days)",
    description:
      "`from` defaults to 30 days before `to`, `to` to the user's today; both are clamped to the goal's dates.",
    pathParams: goalIdParam,
    query: {
      type: "object",
      additionalProperties: false,
      properties: { from: dateSchema, to: dateSchema },
    },
    status: 200,
    response: {
      type: "object",
      additionalProperties: false,
      required: ["goalId", "current", "series"],
      properties: {
        goalId: idSchema,
        current: { anyOf: [progressSchema, { type: "null" }] },
        series: { type: "array", items: seriesItem },
      },
    },
    errors: ["GOAL_NOT_FOUND", "INVALID_DATE_RANGE"],
  },
  addSkips: {
    operationId: "addSkips",
    method: "POST",
    path: "/goals/:id/skips",
    action: "goals.addSkips",
    access: "user",
    tag,
    summary: "Pause a goal on a date or a range (at most 31 days), past or planned",
    description: "Skipped days neither break nor extend a streak. Answers every skipped date of the goal.",
    pathParams: goalIdParam,
    body: {
      type: "object",
      additionalProperties: false,
      properties: { date: dateSchema, from: dateSchema, to: dateSchema },
      oneOf: [{ required: ["date"] }, { required: ["from", "to"] }],
    },
    status: 200,
    response: skipsResult,
    errors: ["GOAL_NOT_FOUND", "GOAL_ARCHIVED", "INVALID_DATE_RANGE"],
  },
  listSkips: {
    operationId: "listSkips",
    method: "GET",
    path: "/goals/:id/skips",
    action: "goals.listSkips",
    access: "user",
    tag,
    summary: "Every skipped date of the goal, ascending",
    pathParams: goalIdParam,
    status: 200,
    response: skipsResult,
    errors: ["GOAL_NOT_FOUND"],
  },
  removeSkip: {
    operationId: "removeSkip",
    method: "DELETE",
    path: "/goals/:id/skips/:date",
    action: "goals.removeSkip",
    access: "user",
    tag,
    summary: "Remove one skipped date",
    pathParams: { ...goalIdParam, date: dateSchema },
    status: 204,
    errors: ["GOAL_NOT_FOUND", "NOT_FOUND"],
  },
} satisfies Record<string, RouteSpec>;
