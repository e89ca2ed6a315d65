/**
 * How one period of a goal is judged: met, missed, pending or skipped. Pure.
 *
 * Decisions beyond the contract's table (documented here because services and tests rely on them):
 * - A period is clipped to the goal's active range [startDate, endDate]: the part outside does not exist.
 *   The returned state carries the clipped bounds, and "ended" means the clipped end is before today.
 * - Skipped days neither count nor break. A day period that is skipped is `skipped` whatever its total.
 *   In a week or month period the skipped days are left out of the value (frequency: their completions do
 *   not count; limit: their total is not counted against the cap) and lower frequency's `required`; the
 *   period is `skipped` when every active day in it is. A skipped day period still reports its own total.
 * - Missing fields fall back to the contract's defaults: target 1 (daily, frequency), timesPerPeriod 1,
 *   frequency period week, limit period day, limit 0.
 */
import { compareDates, daysBetween, maxDate, minDate, type DateRange } from "./calendar.ts";
import type { DayEntry, GoalRules, LocalDate, PeriodKind, PeriodState } from "./goal-types.ts";

/** The kind of period a goal's streak counts in; null for milestone goals, which have no streak. */
export function periodKindOf(rules: GoalRules): PeriodKind | null {
  switch (rules.pattern) {
    case "daily":
    case "target":
      return "day";
    case "frequency":
      return rules.period === "month" ? "month" : "week";
    case "limit":
      return rules.period === "week" ? "week" : "day";
    case "milestone":
      return null;
  }
}

/** The part of `period` inside the goal's active range, or null when none of it is. */
export function clipToGoal(rules: GoalRules, period: DateRange): DateRange | null {
  const startDate = maxDate(period.startDate, rules.startDate);
  const endDate = rules.endDate === null ? period.endDate : minDate(period.endDate, rules.endDate);
  return compareDates(startDate, endDate) <= 0 ? { startDate, endDate } : null;
}

/** Per-day total that makes a day count: daily and frequency `target`, default 1. */
export function dayTarget(rules: GoalRules): number {
  return rules.target ?? 1;
}

/**
 * The state of one period of a goal (daily, frequency, target or limit) on `today`.
 * `days` are the stored (sparse) entries of the period: a missing day has total 0 and is not skipped;
 * entries outside the period or the goal's active range are ignored.
 * Throws for milestone goals and for a period wholly outside the goal's active range.
 */
export function evaluatePeriod(
  rules: GoalRules,
  period: DateRange,
  days: readonly DayEntry[],
  today: LocalDate,
): PeriodState {
  const active = clipToGoal(rules, period);
  if (active === null)
    throw new RangeError(`period ${period.startDate}..${period.endDate} is outside the goal`);
  const { startDate, endDate } = active;
  const ended = endDate < today;
  const activeDays = daysBetween(startDate, endDate) + 1;
  let skippedDays = 0;
  let countedTotal = 0; // total over the non-skipped days
  let allTotal = 0; // total over every active day (what a day period reports)
  let completedDays = 0; // non-skipped days whose total reaches the per-day target
  const seen = new Set<LocalDate>();
  for (const day of days) {
    if (day.date < startDate || day.date > endDate || seen.has(day.date)) continue;
    seen.add(day.date);
    allTotal += day.total;
    if (day.skipped) {
      skippedDays += 1;
      continue;
    }
    countedTotal += day.total;
    if (day.total >= dayTarget(rules)) completedDays += 1;
  }
  const state = (value: number, status: PeriodState["status"]): PeriodState => ({
    startDate,
    endDate,
    value,
    status,
  });
  const value = periodKindOf(rules) === "day" ? allTotal : countedTotal;
  if (skippedDays === activeDays) {
    return state(rules.pattern === "frequency" ? completedDays : value, "skipped");
  }
  const unresolved = ended ? "missed" : "pending";
  switch (rules.pattern) {
    case "daily":
      return state(value, value >= dayTarget(rules) ? "met" : unresolved);
    case "target":
      return state(value, value > 0 ? "met" : unresolved);
    case "frequency": {
      const required = Math.min(rules.timesPerPeriod ?? 1, activeDays - skippedDays);
      return state(completedDays, completedDays >= required ? "met" : unresolved);
    }
    case "limit": {
      if (value > (rules.limit ?? 0)) return state(value, "missed");
      return state(value, ended ? "met" : "pending");
    }
    case "milestone":
      throw new RangeError("milestone goals have no periods");
  }
}
