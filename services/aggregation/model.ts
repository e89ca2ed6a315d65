import { defineModel } from "../../shared/db/index.ts";
import type { LocalDate } from "../../shared/domain/goal-types.ts";

/** The last version of each activity these rollups counted. */
export interface StatActivityDoc {
  _id: string;
  userId: string;
  goalId: string;
  date: LocalDate;
  quantity: number;
  version: number;
  deleted: boolean;
  /** Set while this version is being counted: the dates whose closed figures it changes, until refreshed. */
  pendingDates?: LocalDate[];
}

export const statActivities = defineModel<StatActivityDoc>({
  name: "stat_activities",
  fields: {
    userId: { type: String, required: true },
    goalId: { type: String, required: true },
    date: { type: String, required: true },
    quantity: { type: Number, required: true },
    version: { type: Number, required: true },
    deleted: { type: Boolean, required: true },
    pendingDates: { type: [String], default: undefined },
  },
  indexes: [{ fields: { userId: 1, date: 1 } }, { fields: { goalId: 1 } }],
});

export interface DayFigures {
  activities: number;
  quantity: number;
  goalsDue: number;
  goalsMet: number;
}

/** A user's day, closed when the user's local day has ended; kept 90 days (the retention job). */
export interface DailyStatDoc extends DayFigures {
  /** `<userId>:<date>` */
  _id: string;
  userId: string;
  date: LocalDate;
  closedAt: Date;
}

export const dailyStats = defineModel<DailyStatDoc>({
  name: "daily_stats",
  fields: {
    userId: { type: String, required: true },
    date: { type: String, required: true },
    activities: { type: Number, required: true },
    quantity: { type: Number, required: true },
    goalsDue: { type: Number, required: true },
    goalsMet: { type: Number, required: true },
    closedAt: { type: Date, required: true },
  },
  indexes: [{ fields: { userId: 1, date: 1 } }, { fields: { date: 1 } }],
});

/** A user's week, kept forever. */
export interface WeeklyStatDoc extends DayFigures {
  /** `<userId>:<weekStartDate>` */
  _id: string;
  userId: string;
  weekStartDate: LocalDate;
  updatedAt: Date;
}

export const weeklyStats = defineModel<WeeklyStatDoc>({
  name: "weekly_stats",
  fields: {
    userId: { type: String, required: true },
    weekStartDate: { type: String, required: true },
    activities: { type: Number, required: true },
    quantity: { type: Number, required: true },
    goalsDue: { type: Number, required: true },
    goalsMet: { type: Number, required: true },
    updatedAt: { type: Date, required: true },
  },
  indexes: [{ fields: { userId: 1, weekStartDate: 1 } }],
});

/** Up to which local date each user's days are closed. */
export interface UserCloseDoc {
  _id: string;
  lastClosedDate: LocalDate;
}

export const userCloses = defineModel<UserCloseDoc>({
  name: "user_closes",
  fields: { lastClosedDate: { type: String, required: true } },
  indexes: [],
});

/** One document per job and slot: inserting it is the lock, so each slot runs once across replicas. */
export interface JobRunDoc {
  /** `<job>:<slot>` */
  _id: string;
  job: string;
  slot: string;
  trigger: "schedule" | "admin";
  startedAt: Date;
  finishedAt: Date | null;
  processed: number | null;
  error: string | null;
}

export const jobRuns = defineModel<JobRunDoc>({
  name: "job_runs",
  fields: {
    job: { type: String, required: true },
    slot: { type: String, required: true },
    trigger: { type: String, required: true },
    startedAt: { type: Date, required: true },
    finishedAt: { type: Date, default: null },
    processed: { type: Number, default: null },
    error: { type: String, default: null },
  },
  indexes: [{ fields: { job: 1, startedAt: -1 } }],
});
