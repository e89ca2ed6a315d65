import type { NotificationType } from "../../shared/api/notifications.ts";
import { defineModel } from "../../shared/db/index.ts";

export interface NotificationDoc {
  /** newId(): sorts by creation time, which the cursor relies on. */
  _id: string;
  userId: string;
  type: NotificationType;
  title: string;
  body: string;
  data: Record<string, unknown>;
  /** The once-only key it was created under (`streak.milestone:<goalId>:<n>`, …). */
  key: string;
  /** Whether an email goes (or went) out for it, as the settings said when it was created. */
  email: boolean;
  createdAt: Date;
  readAt: Date | null;
}

export const notifications = defineModel<NotificationDoc>({
  name: "notifications",
  fields: {
    userId: { type: String, required: true },
    type: { type: String, required: true },
    title: { type: String, required: true },
    body: { type: String, required: true },
    data: { type: Object, default: {} },
    key: { type: String, required: true },
    email: { type: Boolean, default: false },
    createdAt: { type: Date, required: true },
    readAt: { type: Date, default: null },
  },
  indexes: [{ fields: { userId: 1, _id: -1 } }, { fields: { userId: 1, readAt: 1 } }],
});

/**
 * Once-only keys. `_id` is the key, so a second insert fails whatever the backend: FerretDB has no atomic
 * conditional update, but every backend refuses a duplicate `_id`. Holds the notification's id, so a
 * retry after a crash finishes the same notification; `done` once every channel has it.
 * Email claims live here too (`mail:<notificationId>`).
 */
export interface NotificationKeyDoc {
  _id: string;
  userId: string;
  notificationId: string;
  done: boolean;
  createdAt: Date;
}

export const notificationKeys = defineModel<NotificationKeyDoc>({
  name: "notification_keys",
  fields: {
    userId: { type: String, required: true },
    notificationId: { type: String, required: true },
    done: { type: Boolean, default: false },
    createdAt: { type: Date, required: true },
  },
  indexes: [{ fields: { userId: 1 } }],
});

export interface NotificationSettingsDoc {
  /** The user's id: one document per user, absent while the defaults apply. */
  _id: string;
  email: boolean;
  reminderTime: string;
  weeklySummary: boolean;
  /** Types switched off (type names contain dots, which NeDB and MongoDB refuse as field names). */
  disabledTypes: NotificationType[];
  updatedAt: Date;
}

export const notificationSettings = defineModel<NotificationSettingsDoc>({
  name: "notification_settings",
  fields: {
    email: { type: Boolean, required: true },
    reminderTime: { type: String, required: true },
    weeklySummary: { type: Boolean, required: true },
    disabledTypes: { type: [String], default: [] },
    updatedAt: { type: Date, required: true },
  },
  indexes: [],
});

export interface WebhookDoc {
  _id: string;
  userId: string;
  url: string;
  events: NotificationType[];
  secret: string;
  createdAt: Date;
}

export const webhooks = defineModel<WebhookDoc>({
  name: "webhooks",
  fields: {
    userId: { type: String, required: true },
    url: { type: String, required: true },
    events: { type: [String], required: true },
    secret: { type: String, required: true },
    createdAt: { type: Date, required: true },
  },
  indexes: [{ fields: { userId: 1, _id: -1 } }],
});

export type DeliveryState = "pending" | "succeeded" | "failed";

/** One notification to one webhook, with its retry state. */
export interface DeliveryDoc {
  /** Derived from the notification and the webhook (see deliveryIdOf): one delivery per pair. */
  _id: string;
  userId: string;
  webhookId: string;
  notificationId: string;
  type: NotificationType;
  /** The exact JSON sent on every attempt, so that body and signature never change between retries. */
  body: string;
  state: DeliveryState;
  /** Attempts finished so far. */
  attempts: number;
  nextAttemptAt: Date;
  createdAt: Date;
  updatedAt: Date;
}

export const deliveries = defineModel<DeliveryDoc>({
  name: "deliveries",
  fields: {
    userId: { type: String, required: true },
    webhookId: { type: String, required: true },
    notificationId: { type: String, required: true },
    type: { type: String, required: true },
    body: { type: String, required: true },
    state: { type: String, required: true },
    attempts: { type: Number, required: true },
    nextAttemptAt: { type: Date, required: true },
    createdAt: { type: Date, required: true },
    updatedAt: { type: Date, required: true },
  },
  indexes: [
    { fields: { state: 1, nextAttemptAt: 1 } },
    { fields: { webhookId: 1 } },
    { fields: { userId: 1 } },
  ],
});

export type AttemptOutcome = "pending" | "success" | "failure" | "timeout" | "refused";

/**
 * One attempt of a delivery. `_id` = `<deliveryId>:<attempt>`: inserting it claims the attempt, so two
 * pollers (two replicas, or a slow tick) never send the same attempt twice.
 */
export interface DeliveryAttemptDoc {
  _id: string;
  /** newId() at the claim: orders the log newest first and pages it. */
  seq: string;
  deliveryId: string;
  webhookId: string;
  userId: string;
  notificationId: string;
  type: NotificationType;
  attempt: number;
  outcome: AttemptOutcome;
  statusCode: number | null;
  durationMs: number | null;
  error: string | null;
  createdAt: Date;
}

export const deliveryAttempts = defineModel<DeliveryAttemptDoc>({
  name: "delivery_attempts",
  fields: {
    seq: { type: String, required: true },
    deliveryId: { type: String, required: true },
    webhookId: { type: String, required: true },
    userId: { type: String, required: true },
    notificationId: { type: String, required: true },
    type: { type: String, required: true },
    attempt: { type: Number, required: true },
    outcome: { type: String, required: true },
    statusCode: { type: Number, default: null },
    durationMs: { type: Number, default: null },
    error: { type: String, default: null },
    createdAt: { type: Date, required: true },
  },
  indexes: [{ fields: { webhookId: 1, seq: -1 } }, { fields: { userId: 1 } }, { fields: { deliveryId: 1 } }],
});
