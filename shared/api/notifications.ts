import type { JsonSchema } from "../validation.ts";
import { idSchema, instantSchema } from "./common.ts";
import { cursorSchema, limitSchema, pageOf } from "./pagination.ts";
import type { RouteSpec } from "./route.ts";

/** What a notification can be about; each one can be switched off in the settings and subscribed to by webhooks. */
export const NOTIFICATION_TYPES = [
  "goal.completed",
  "streak.milestone",
  "streak.at_risk",
  "streak.broken",
  "weekly.summary",
] as const;
export type NotificationType = (typeof NOTIFICATION_TYPES)[number];

export const MAX_WEBHOOKS_PER_USER = 10;

const typeSchema = { enum: [...NOTIFICATION_TYPES] } as const;
const reminderTimeSchema = {
  type: "string",
  pattern: "^([01][0-9]|2[0-3]):[0-5][0-9]$",
  description: "Local wall-clock time, HH:MM (24 h)",
} as const;
const booleanPerType = Object.fromEntries(NOTIFICATION_TYPES.map((type) => [type, { type: "boolean" }]));

export const notificationSchema: JsonSchema = {
  type: "object",
  additionalProperties: false,
  required: ["id", "type", "title", "body", "data", "createdAt", "readAt"],
  properties: {
    id: idSchema,
    type: typeSchema,
    title: { type: "string" },
    body: { type: "string" },
    data: {
      type: "object",
      description:
        "What the notification is about: `goalId` and `goalTitle` for goal notifications, plus `milestone`/`current` (streak.milestone), `previous`/`lastMetDate` (streak.broken), `completedOn` (goal.completed), `current`/`date` (streak.at_risk); the week's figures for weekly.summary",
    },
    createdAt: instantSchema,
    readAt: { anyOf: [instantSchema, { type: "null" }] },
  },
};

export const notificationSettingsSchema: JsonSchema = {
  type: "object",
  additionalProperties: false,
  required: ["email", "reminderTime", "weeklySummary", "types"],
  properties: {
    email: { type: "boolean", description: "Also send each notification by email" },
    reminderTime: reminderTimeSchema,
    weeklySummary: { type: "boolean" },
    types: {
      type: "object",
      additionalProperties: false,
      required: [...NOTIFICATION_TYPES],
      properties: booleanPerType,
    },
  },
};

export const notificationSettingsBody: JsonSchema = {
  type: "object",
  additionalProperties: false,
  required: ["email", "reminderTime", "weeklySummary", "types"],
  properties: {
    email: { type: "boolean" },
    reminderTime: reminderTimeSchema,
    weeklySummary: { type: "boolean" },
    types: {
      type: "object",
      additionalProperties: false,
      properties: booleanPerType,
      description: "Some or all types; a type left out keeps its current setting. An unknown type is a 422.",
    },
  },
};

const webhookUrlSchema = {
  type: "string",
  minLength: 1,
  maxLength: 2048,
  format: "uri",
  pattern: "^[Hh][Tt][Tt][Pp][Ss]?://",
  description:
    "http or https. Refused (422) when the host is or resolves to a private, loopback, link-local, unique-local, CGNAT, multicast or otherwise reserved address, unless the server runs with WEBHOOK_ALLOW_PRIVATE=true",
} as const;

const webhookFields = {
  id: idSchema,
  url: { type: "string" },
  events: { type: "array", items: typeSchema },
  createdAt: instantSchema,
} as const;

export const webhookSchema: JsonSchema = {
  type: "object",
  additionalProperties: false,
  required: ["id", "url", "events", "createdAt"],
  properties: webhookFields,
};

export const createdWebhookSchema: JsonSchema = {
  type: "object",
  additionalProperties: false,
  required: ["id", "url", "events", "secret", "createdAt"],
  properties: {
    ...webhookFields,
    secret: {
      type: "string",
      description:
        "The HMAC-SHA256 key of `X-Webhook-Signature`. Shown only in this answer: it cannot be read again",
    },
  },
};

export const deliveryAttemptSchema: JsonSchema = {
  type: "object",
  additionalProperties: false,
  required: [
    "id",
    "notificationId",
    "type",
    "attempt",
    "outcome",
    "statusCode",
    "durationMs",
    "error",
    "createdAt",
  ],
  properties: {
    id: { ...idSchema, description: "The delivery's id, sent as X-Webhook-Id (the same on every attempt)" },
    notificationId: idSchema,
    type: typeSchema,
    attempt: { type: "integer", minimum: 1, description: "1 for the first try, then 2, 3, …" },
    outcome: {
      enum: ["pending", "success", "failure", "timeout", "refused"],
      description:
        "`pending` while the request is in flight; `refused` when the host resolved to an address webhooks may not reach",
    },
    statusCode: { anyOf: [{ type: "integer" }, { type: "null" }] },
    durationMs: { anyOf: [{ type: "integer", minimum: 0 }, { type: "null" }] },
    error: { anyOf: [{ type: "string" }, { type: "null" }] },
    createdAt: instantSchema,
  },
};

const pageQuery: JsonSchema = {
  type: "object",
  additionalProperties: false,
  properties: { limit: limitSchema, cursor: cursorSchema },
};
const idParam = { id: idSchema };
const tag = "Notifications";

export const notificationRoutes = {
  list: {
    operationId: "listNotifications",
    method: "GET",
    path: "/notifications",
    action: "notification.list",
    access: "user",
    tag,
    summary: "The user's notifications, newest first",
    description: "`unread=true` lists only the ones not read yet.",
    query: {
      type: "object",
      additionalProperties: false,
      properties: { unread: { type: "boolean" }, limit: limitSchema, cursor: cursorSchema },
    },
    status: 200,
    response: pageOf(notificationSchema),
    errors: [],
  },
  markRead: {
    operationId: "markNotificationRead",
    method: "POST",
    path: "/notifications/:id/read",
    action: "notification.markRead",
    access: "user",
    tag,
    summary: "Mark one notification read (idempotent: the first read time is kept)",
    pathParams: idParam,
    status: 200,
    response: notificationSchema,
    errors: ["NOT_FOUND"],
  },
  markAllRead: {
    operationId: "markAllNotificationsRead",
    method: "POST",
    path: "/notifications/read-all",
    action: "notification.markAllRead",
    access: "user",
    tag,
    summary: "Mark every unread notification read",
    status: 200,
    response: {
      type: "object",
      additionalProperties: false,
      required: ["updated"],
      properties: { updated: { type: "integer", minimum: 0, description: "How many were unread" } },
    },
    errors: [],
  },
  getSettings: {
    operationId: "getNotificationSettings",
    method: "GET",
    path: "/me/notification-settings",
    action: "notification.getSettings",
    access: "user",
    tag,
    summary:
      "Notification settings (defaults: email on, reminder at 20:00, weekly summary on, every type on)",
    status: 200,
    response: notificationSettingsSchema,
    errors: [],
  },
  putSettings: {
    operationId: "putNotificationSettings",
    method: "PUT",
    path: "/me/notification-settings",
    action: "notification.putSettings",
    access: "user",
    tag,
    summary: "Replace the notification settings",
    description:
      "`email`, `reminderTime` and `weeklySummary` are required. `types` may name only some types: the others keep their current setting. A type switched off creates no notification at all (in-app, email or webhook). `reminderTime` is when at-risk reminders may go out, in the user's time zone.",
    body: notificationSettingsBody,
    status: 200,
    response: notificationSettingsSchema,
    errors: [],
  },
} satisfies Record<string, RouteSpec>;

export const webhookRoutes = {
  create: {
    operationId: "createWebhook",
    method: "POST",
    path: "/webhooks",
    action: "notification.createWebhook",
    access: "user",
    tag,
    summary: "Subscribe a URL to notification types; the signing secret is shown only here",
    description: `Each notification of a subscribed type is POSTed as JSON \`{id, type, createdAt, data}\` (\`id\` is the notification's) with \`X-Webhook-Id\` (the delivery's id, the same on every retry) and \`X-Webhook-Signature: sha256=<hex HMAC-SHA256 of the raw body keyed with the secret>\`. An answer other than 2xx within 5 s is retried with exponential backoff and full jitter, 6 attempts in all. Redirects are not followed. At most ${MAX_WEBHOOKS_PER_USER} webhooks per user.`,
    body: {
      type: "object",
      additionalProperties: false,
      required: ["url", "events"],
      properties: {
        url: webhookUrlSchema,
        events: {
          type: "array",
          minItems: 1,
          maxItems: NOTIFICATION_TYPES.length,
          uniqueItems: true,
          items: typeSchema,
        },
      },
    },
    status: 201,
    response: createdWebhookSchema,
    errors: [],
  },
  list: {
    operationId: "listWebhooks",
    method: "GET",
    path: "/webhooks",
    action: "notification.listWebhooks",
    access: "user",
    tag,
    summary: "The user's webhooks, newest first (without their secrets)",
    query: pageQuery,
    status: 200,
    response: pageOf(webhookSchema),
    errors: [],
  },
  remove: {
    operationId: "deleteWebhook",
    method: "DELETE",
    path: "/webhooks/:id",
    action: "notification.deleteWebhook",
    access: "user",
    tag,
    summary: "Delete a webhook with its deliveries; retries still due are dropped",
    pathParams: idParam,
    status: 204,
    errors: ["NOT_FOUND"],
  },
  deliveries: {
    operationId: "listWebhookDeliveries",
    method: "GET",
    path: "/webhooks/:id/deliveries",
    action: "notification.deliveries",
    access: "user",
    tag,
    summary: "Recent delivery attempts of a webhook, newest first, with status code and timing",
    description: "One item per attempt; the attempts of one delivery share its `id`.",
    pathParams: idParam,
    query: pageQuery,
    status: 200,
    response: pageOf(deliveryAttemptSchema),
    errors: ["NOT_FOUND"],
  },
} satisfies Record<string, RouteSpec>;
