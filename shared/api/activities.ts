import type { JsonSchema } from "../validation.ts";
import { dateSchema, errorEnvelopeSchema, idSchema, instantSchema } from "./common.ts";
import { cursorSchema, limitSchema, pageOf } from "./pagination.ts";
import type { RouteSpec } from "./route.ts";

const quantitySchema = { type: "number", exclusiveMinimum: 0, maximum: 1e9 } as const;
const noteSchema = { type: "string", maxLength: 500 } as const;

export const activitySchema: JsonSchema = {
  type: "object",
  additionalProperties: false,
  required: ["id", "goalId", "quantity", "note", "occurredAt", "localDate", "milestoneId", "createdAt"],
  properties: {
    id: idSchema,
    goalId: idSchema,
    quantity: { type: "number" },
    note: { anyOf: [{ type: "string" }, { type: "null" }] },
    occurredAt: instantSchema,
    localDate: dateSchema,
    milestoneId: { anyOf: [idSchema, { type: "null" }] },
    createdAt: instantSchema,
  },
};

export const activityLogBody: JsonSchema = {
  type: "object",
  additionalProperties: false,
  properties: {
    quantity: { ...quantitySchema, default: 1 },
    note: noteSchema,
    occurredAt: instantSchema,
    milestoneId: idSchema,
  },
};

const bulkItem = {
  type: "object",
  additionalProperties: false,
  required: ["goalId"],
  properties: {
    goalId: idSchema,
    quantity: quantitySchema,
    occurredAt: instantSchema,
    note: noteSchema,
    clientId: { type: "string", minLength: 1, maxLength: 64 },
  },
} as const;

const tag = "Activities";
const errorObject = (errorEnvelopeSchema.properties as { error: JsonSchema }).error;

export const activityRoutes = {
  log: {
    operationId: "logActivity",
    method: "POST",
    path: "/goals/:id/activities",
    action: "activity.log",
    access: "user",
    tag,
    summary: "Log an activity on a goal",
    description:
      "Send `Idempotency-Key` (at most 64 characters, kept 24 h per user) to make retries safe: a replay answers the first response and stores nothing new. The goal's streak and progress are updated before the answer, so a read that follows sees them.",
    pathParams: { id: idSchema },
    headers: {
      "Idempotency-Key": {
        description:
          "Makes retries safe: a replay answers the first response (scoped to the user, kept 24 h)",
        schema: { type: "string", minLength: 1, maxLength: 64 },
      },
    },
    body: activityLogBody,
    status: 201,
    response: activitySchema,
    errors: [
      "GOAL_NOT_FOUND",
      "GOAL_ARCHIVED",
      "GOAL_ALREADY_COMPLETED",
      "INVALID_DATE_RANGE",
      "IDEMPOTENCY_KEY_REUSED",
      "NOT_FOUND",
    ],
  },
  list: {
    operationId: "listActivities",
    method: "GET",
    path: "/goals/:id/activities",
    action: "activity.list",
    access: "user",
    tag,
    summary: "A goal's activities, newest first, optionally between two local dates",
    pathParams: { id: idSchema },
    query: {
      type: "object",
      additionalProperties: false,
      properties: { from: dateSchema, to: dateSchema, limit: limitSchema, cursor: cursorSchema },
    },
    status: 200,
    response: pageOf(activitySchema),
    errors: ["GOAL_NOT_FOUND", "INVALID_DATE_RANGE"],
  },
  update: {
    operationId: "updateActivity",
    method: "PATCH",
    path: "/activities/:id",
    action: "activity.update",
    access: "user",
    tag,
    summary: "Change an activity; streaks and stats are recomputed",
    pathParams: { id: idSchema },
    body: {
      type: "object",
      additionalProperties: false,
      properties: {
        quantity: quantitySchema,
        note: { anyOf: [noteSchema, { type: "null" }] },
        occurredAt: instantSchema,
      },
    },
    status: 200,
    response: activitySchema,
    errors: ["ACTIVITY_NOT_FOUND", "GOAL_ARCHIVED", "INVALID_DATE_RANGE"],
  },
  remove: {
    operationId: "deleteActivity",
    method: "DELETE",
    path: "/activities/:id",
    action: "activity.remove",
    access: "user",
    tag,
    summary: "Delete an activity; streaks and stats are recomputed",
    pathParams: { id: idSchema },
    status: 204,
    errors: ["ACTIVITY_NOT_FOUND", "GOAL_ARCHIVED"],
  },
  bulk: {
    operationId: "logActivities",
    method: "POST",
    path: "/activities/bulk",
    action: "activity.bulk",
    access: "user",
    tag,
    summary: "Log up to 500 activities; each item gets the status it would have had alone",
    body: {
      type: "object",
      additionalProperties: false,
      required: ["items"],
      properties: { items: { type: "array", minItems: 1, maxItems: 500, items: bulkItem } },
    },
    largeBody: true,
    status: 200,
    response: {
      type: "object",
      additionalProperties: false,
      required: ["results"],
      properties: {
        results: {
          type: "array",
          items: {
            type: "object",
            additionalProperties: false,
            required: ["index", "status"],
            properties: {
              index: { type: "integer", minimum: 0 },
              status: { type: "integer" },
              clientId: { type: "string" },
              activity: activitySchema,
              error: errorObject,
            },
          },
        },
      },
    },
    errors: [],
  },
} satisfies Record<string, RouteSpec>;
