/**
 * Habit strength: an exponential moving average of met (1) and missed (0) periods. Pure.
 *
 * `s = s_prev * m + c * (1 - m)`, s starting at 0, with `m = 0.5 ^ (L * sqrt(f) / 13)` for a period of L days
 * and f expected completions per day: a half-life of 13 / sqrt(f) days. A period counts once it has ended,
 * or before that as soon as it is met; skipped and pending periods are left out.
 *
 * L is the number of days of the period inside the goal's active range (a goal starting on a Thursday has a
 * first week of L = 4 days); f uses the whole calendar period (timesPerPeriod / 7 for a weekly frequency
 * goal, timesPerPeriod / the month's length for a monthly one), since it is a rate.
 */
import { daysBetween, periodContaining, type DateRange } from "./calendar.ts";
import type { GoalRules, LocalDate, PeriodState } from "./goal-types.ts";
import { periodKindOf } from "./periods.ts";

/** Expected completions per day over the calendar period that contains `period`. */
function completionsPerDay(rules: GoalRules, period: DateRange): number {
  switch (rules.pattern) {
    case "daily":
    case "target":
      return 1;
    case "limit":
      return rules.period === "week" ? 1 / 7 : 1;
    case "frequency": {
      const whole = periodContaining(period.startDate, periodKindOf(rules) ?? "week", rules.weekStart);
      return (rules.timesPerPeriod ?? 1) / (daysBetween(whole.startDate, whole.endDate) + 1);
    }
    case "milestone":
      throw new RangeError("milestone goals have no strength");
  }
}

/** `m` for one period (its bounds as evaluated, i.e. clipped to the goal). */
export function strengthMultiplier(rules: GoalRules, period: DateRange): number {
  const length = daysBetween(period.startDate, period.endDate) + 1;
  return 0.5 ** ((length * Math.sqrt(completionsPerDay(rules, period))) / 13);
}

/** One period further (callers decide whether it counts: see `countsForStrength`). */
export function strengthStep(strength: number, met: boolean, multiplier: number): number {
  return strength * multiplier + (met ? 1 : 0) * (1 - multiplier);
}

/** Whether a period enters the strength on `today`: met periods, and missed ones once they have ended. */
export function countsForStrength(period: PeriodState, today: LocalDate): boolean {
  return period.status === "met" || (period.status === "missed" && period.endDate < today);
}

/**
 * Folds `periods` (ascending) into `start`. Met and missed periods count, skipped and pending ones are
 * left out. Given `today`, a missed period that has not ended yet (a limit already over its cap) is left out
 * too, as the contract updates the strength only once per ended or already met period.
 */
export function foldStrength(
  rules: GoalRules,
  start: number,
  periods: readonly PeriodState[],
  today?: LocalDate,
): number {
  let strength = start;
  for (const period of periods) {
    const counts =
      today === undefined
        ? period.status === "met" || period.status === "missed"
        : countsForStrength(period, today);
    if (counts) strength = strengthStep(strength, period.status === "met", strengthMultiplier(rules, period));
  }
  return strength;
}
