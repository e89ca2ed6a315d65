/**
 * A goal's progress in its current period (or over its whole range for target and milestone goals). Pure.
 *
 * `goal` is target (daily), timesPerPeriod (frequency), limit (limit), target (target), milestone count.
 * `met` is the period's status being `met` (a limit period is met only once it has ended within the cap, so
 * the current limit period is never met; target and milestone goals are met once reached).
 * `percent` = round(value / goal × 100):
 * - daily, target, milestone: capped to 0..100;
 * - frequency: capped to 0..100, and 100 whenever the period is met (a partial or partly skipped period can
 *   be met with fewer than timesPerPeriod days);
 * - limit: not capped at 100, to show overuse, but capped at 1000; a cap of 0 gives 0 while nothing is
 *   logged and 1000 after.
 * target goals also get `expectedByNow` = target × (days from startDate through today, within the range) /
 * (days in the range), rounded to 2 decimals, and `projectedDate` = today + ceil(remaining / average daily
 * total), the average taken over the last 14 days up to today that are on or after startDate; null when that
 * average is 0 (or the goal has not started), today when the target is already reached.
 */
import { addDays, daysBetween, maxDate, periodContaining } from "./calendar.ts";
import type { DayEntry, GoalRules, LocalDate, PeriodState, Progress } from "./goal-types.ts";
import { clipToGoal, periodKindOf } from "./periods.ts";

export const PACE_WINDOW_DAYS = 14;
export const LIMIT_PERCENT_CAP = 1000;

export interface ProgressContext {
  today: LocalDate;
  /** The goal's total over every day up to today (target goals). */
  totalToDate: number;
  /** The stored day entries of the last 14 days up to today (target goals' pace). */
  recentDays: readonly DayEntry[];
}

function ratioPercent(value: number, goal: number, cap: number): number {
  if (goal <= 0) return value > 0 ? cap : 0;
  return Math.min(cap, Math.max(0, Math.round((value / goal) * 100)));
}

function round2(value: number): number {
  return Math.round(value * 100) / 100;
}

/**
 * `current` is the evaluated period containing today; when the goal has not started yet or is over, pass
 * null (its first, respectively last, period is then shown with value 0) or the last period's state.
 */
export function progressOf(
  rules: GoalRules,
  current: PeriodState | null,
  context: ProgressContext,
): Progress {
  const { today } = context;
  switch (rules.pattern) {
    case "milestone": {
      const goal = rules.milestoneCount ?? 0;
      const value = rules.milestonesDone ?? 0;
      return {
        periodStartDate: rules.startDate,
        periodEndDate: rules.endDate ?? rules.startDate,
        value,
        goal,
        met: goal > 0 && value >= goal,
        percent: ratioPercent(value, goal, 100),
      };
    }
    case "target": {
      const goal = rules.target ?? 0;
      const endDate = rules.endDate ?? maxDate(today, rules.startDate);
      const value = context.totalToDate;
      const totalDays = daysBetween(rules.startDate, endDate) + 1;
      const elapsed = Math.min(totalDays, Math.max(0, daysBetween(rules.startDate, today) + 1));
      return {
        periodStartDate: rules.startDate,
        periodEndDate: endDate,
        value,
        goal,
        met: value >= goal,
        percent: ratioPercent(value, goal, 100),
        expectedByNow: round2((goal * elapsed) / totalDays),
        projectedDate: projectedDate(rules, context, goal - value),
      };
    }
    case "daily":
    case "frequency":
    case "limit": {
      const period = current ?? emptyPeriod(rules, today);
      const goal =
        (rules.pattern === "daily"
          ? rules.target
          : rules.pattern === "frequency"
            ? rules.timesPerPeriod
            : rules.limit) ?? 1;
      const met = period.status === "met";
      const percent =
        rules.pattern === "limit"
          ? ratioPercent(period.value, goal, LIMIT_PERCENT_CAP)
          : rules.pattern === "frequency" && met
            ? 100
            : ratioPercent(period.value, goal, 100);
      return {
        periodStartDate: period.startDate,
        periodEndDate: period.endDate,
        value: period.value,
        goal,
        met,
        percent,
      };
    }
  }
}

/** The goal's first period (not started yet) or last period (over), with nothing in it. */
function emptyPeriod(rules: GoalRules, today: LocalDate): PeriodState {
  const anchor =
    rules.endDate !== null && today > rules.endDate ? rules.endDate : maxDate(today, rules.startDate);
  const whole = periodContaining(anchor, periodKindOf(rules) ?? "day", rules.weekStart);
  const clipped = clipToGoal(rules, whole) ?? { startDate: rules.startDate, endDate: rules.startDate };
  return { ...clipped, value: 0, status: "pending" };
}

function projectedDate(rules: GoalRules, context: ProgressContext, remaining: number): LocalDate | null {
  const { today } = context;
  if (remaining <= 0) return today;
  const from = maxDate(addDays(today, 1 - PACE_WINDOW_DAYS), rules.startDate);
  const days = daysBetween(from, today) + 1;
  if (days <= 0) return null;
  let sum = 0;
  for (const day of context.recentDays) if (day.date >= from && day.date <= today) sum += day.total;
  if (sum <= 0) return null;
  return addDays(today, Math.ceil(remaining / (sum / days)));
}
