import { defineModel } from "../../shared/db/index.ts";
import type { LocalDate } from "../../shared/domain/goal-types.ts";

export interface ActivityDoc {
  _id: string;
  userId: string;
  goalId: string;
  quantity: number;
  note: string | null;
  occurredAt: Date;
  /** Fixed when written: later changes of the user's zone do not move it. */
  localDate: LocalDate;
  milestoneId: string | null;
  createdAt: Date;
  updatedAt: Date;
  /** +1 on every change; consumers keep the highest version per activity. */
  version: number;
  /** A deleted activity stays as a tombstone until its deletion has been published. */
  deleted: boolean;
  /** Outbox marker: this version's `activity.changed` is not known to be published yet. */
  unpublished: boolean;
}

export const activities = defineModel<ActivityDoc>({
  name: "activities",
  fields: {
    userId: { type: String, required: true },
    goalId: { type: String, required: true },
    quantity: { type: Number, required: true },
    note: { type: String, default: null },
    occurredAt: { type: Date, required: true },
    localDate: { type: String, required: true },
    milestoneId: { type: String, default: null },
    createdAt: { type: Date, required: true },
    updatedAt: { type: Date, required: true },
    version: { type: Number, required: true },
    deleted: { type: Boolean, default: false },
    unpublished: { type: Boolean, default: true },
  },
  indexes: [
    { fields: { goalId: 1, _id: -1 } },
    { fields: { goalId: 1, localDate: 1 } },
    { fields: { userId: 1 } },
    { fields: { unpublished: 1, updatedAt: 1 } },
  ],
});

export interface IdempotencyDoc {
  /** `<userId>:<key>`: a key is scoped to its user. */
  _id: string;
  /** What the first request asked for; the same key with another request is refused. */
  requestHash: string;
  state: "pending" | "done";
  status: number | null;
  body: string | null;
  createdAt: Date;
  /** When the request now holding the key claimed it; absent on keys stored before claims could be taken over. */
  claimedAt?: Date;
  /** The id of the activity this key creates, fixed at the first claim: a retry never creates a second one. */
  resourceId?: string;
}

export const idempotencyKeys = defineModel<IdempotencyDoc>({
  name: "idempotency_keys",
  fields: {
    requestHash: { type: String, required: true },
    state: { type: String, required: true },
    status: { type: Number, default: null },
    body: { type: String, default: null },
    createdAt: { type: Date, required: true },
    claimedAt: { type: Date },
    resourceId: { type: String },
  },
  indexes: [{ fields: { createdAt: 1 } }],
});
