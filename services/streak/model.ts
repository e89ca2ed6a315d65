import type { GoalState } from "../../shared/bus/channels.ts";
import { defineModel } from "../../shared/db/index.ts";
import type { LocalDate } from "../../shared/domain/goal-types.ts";
import type { LedgerSnapshot } from "../../shared/domain/ledger.ts";

/** The last version of each activity this service applied: what it adds to which day. */
export interface TrackedActivityDoc {
  _id: string;
  goalId: string;
  userId: string;
  date: LocalDate;
  quantity: number;
  version: number;
  deleted: boolean;
  /** Set while this version is being applied: the days it changes, until they and the ledger have it. */
  pendingDates?: LocalDate[];
}

export const trackedActivities = defineModel<TrackedActivityDoc>({
  name: "tracked_activities",
  fields: {
    goalId: { type: String, required: true },
    userId: { type: String, required: true },
    date: { type: String, required: true },
    quantity: { type: Number, required: true },
    version: { type: Number, required: true },
    deleted: { type: Boolean, required: true },
    pendingDates: { type: [String], default: undefined },
  },
  indexes: [{ fields: { goalId: 1, date: 1 } }, { fields: { userId: 1 } }],
});

/** One day of a goal's ledger (only days with activity or a skip are stored). */
export interface GoalDayDoc {
  /** `<goalId>:<date>` */
  _id: string;
  goalId: string;
  userId: string;
  date: LocalDate;
  total: number;
  skipped: boolean;
}

export const goalDays = defineModel<GoalDayDoc>({
  name: "goal_days",
  fields: {
    goalId: { type: String, required: true },
    userId: { type: String, required: true },
    date: { type: String, required: true },
    total: { type: Number, required: true },
    skipped: { type: Boolean, required: true },
  },
  indexes: [{ fields: { goalId: 1 } }, { fields: { goalId: 1, date: 1 } }, { fields: { userId: 1 } }],
});

/** Per goal: the newest goal state seen, the ledger snapshot (streak, strength) and the running total. */
export interface GoalLedgerDoc {
  _id: string;
  userId: string;
  goal: GoalState;
  snapshot: LedgerSnapshot;
  totalToDate: number;
  updatedAt: Date;
}

export const goalLedgers = defineModel<GoalLedgerDoc>({
  name: "goal_ledgers",
  fields: {
    userId: { type: String, required: true },
    goal: { type: Object, required: true },
    snapshot: { type: Object, required: true },
    totalToDate: { type: Number, required: true },
    updatedAt: { type: Date, required: true },
  },
  indexes: [{ fields: { userId: 1 } }],
});

/** One document per notification-worthy event, so each is announced once however often it recurs. */
export interface StreakNoticeDoc {
  /** `<goalId>:milestone:<n>`, `<goalId>:broken:<lastMetDate>`, `<goalId>:completed` … */
  _id: string;
  goalId: string;
  userId: string;
  createdAt: Date;
}

export const streakNotices = defineModel<StreakNoticeDoc>({
  name: "streak_notices",
  fields: {
    goalId: { type: String, required: true },
    userId: { type: String, required: true },
    createdAt: { type: Date, required: true },
  },
  indexes: [{ fields: { goalId: 1 } }, { fields: { userId: 1 } }],
});
