/**
 * The vocabulary of goals, periods and streaks shared by the goals, activity and streak services.
 * Pure types: the rules that use them live beside this file.
 */
import type { WeekStart } from "./profile.ts";

/** A calendar date in the user's own calendar, `YYYY-MM-DD`. */
export type LocalDate = string;

export type Pattern = "daily" | "frequency" | "target" | "limit" | "milestone";
export type PeriodKind = "day" | "week" | "month";

/** What the rules need to know of a goal (a copy of it travels with every event about it). */
export interface GoalRules {
  pattern: Pattern;
  startDate: LocalDate;
  /** Inclusive; periods after it do not exist. */
  endDate: LocalDate | null;
  /** The user's week start when the rules were last evaluated. */
  weekStart: WeekStart;
  /** daily: per-day total to reach; frequency: per-day total that makes a day count; target: the total. */
  target: number | null;
  /** frequency: days per period. */
  timesPerPeriod: number | null;
  /** frequency: week | month; limit: day | week. */
  period: PeriodKind | null;
  /** limit: the cap (inclusive). */
  limit: number | null;
  /** milestone: how many milestones, and how many are done. */
  milestoneCount: number | null;
  milestonesDone: number | null;
}

/** One day of a goal's ledger: the sum of its activities' quantities, and whether it is skipped. */
export interface DayEntry {
  date: LocalDate;
  total: number;
  skipped: boolean;
}

export type PeriodStatus = "met" | "missed" | "pending" | "skipped";

export interface PeriodState {
  startDate: LocalDate;
  endDate: LocalDate;
  /** Total (daily, target, limit) or number of days whose total reached the target (frequency). */
  value: number;
  status: PeriodStatus;
}

export interface StreakSummary {
  current: number;
  longest: number;
  lastMetDate: LocalDate | null;
}

export interface Progress {
  periodStartDate: LocalDate;
  periodEndDate: LocalDate;
  value: number;
  goal: number;
  met: boolean;
  percent: number;
  /** target goals only */
  expectedByNow?: number;
  projectedDate?: LocalDate | null;
}
