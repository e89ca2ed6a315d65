/**
 * A goal's periods numbered from 0 (the period containing its startDate), each clipped to the goal's active
 * range. Pure arithmetic: the i-th period is found without walking the ones before it.
 */
import {
  addDays,
  daysBetween,
  firstOfMonth,
  monthNumber,
  periodContaining,
  type DateRange,
} from "./calendar.ts";
import type { GoalRules, LocalDate, PeriodKind } from "./goal-types.ts";
import { clipToGoal } from "./periods.ts";

export class GoalPeriods {
  readonly rules: GoalRules;
  readonly kind: PeriodKind;
  /** Start of period 0 before clipping. */
  readonly #base: LocalDate;

  constructor(rules: GoalRules, kind: PeriodKind) {
    this.rules = rules;
    this.kind = kind;
    this.#base = periodContaining(rules.startDate, kind, rules.weekStart).startDate;
  }

  /** The number of the period containing `date` (negative before the goal's first period). */
  indexOf(date: LocalDate): number {
    switch (this.kind) {
      case "day":
        return daysBetween(this.#base, date);
      case "week":
        return Math.floor(daysBetween(this.#base, date) / 7);
      case "month":
        return monthNumber(date) - monthNumber(this.#base);
    }
  }

  /** Period `index`, clipped to the goal (callers ask only for periods that exist). */
  at(index: number): DateRange {
    let whole: DateRange;
    switch (this.kind) {
      case "day":
        whole = { startDate: addDays(this.#base, index), endDate: addDays(this.#base, index) };
        break;
      case "week":
        whole = { startDate: addDays(this.#base, 7 * index), endDate: addDays(this.#base, 7 * index + 6) };
        break;
      case "month":
        whole = periodContaining(
          firstOfMonth(monthNumber(this.#base) + index),
          "month",
          this.rules.weekStart,
        );
        break;
    }
    const clipped = clipToGoal(this.rules, whole);
    if (clipped === null) throw new RangeError(`the goal has no period ${index}`);
    return clipped;
  }

  /** Whether `date` is inside the goal's active range. */
  contains(date: LocalDate): boolean {
    return date >= this.rules.startDate && (this.rules.endDate === null || date <= this.rules.endDate);
  }

  /** How many periods have ended by `today` (their clipped end is before it): periods 0 .. n−1. */
  endedCount(today: LocalDate): number {
    if (today <= this.rules.startDate) return 0;
    if (this.rules.endDate !== null && this.rules.endDate < today)
      return this.indexOf(this.rules.endDate) + 1;
    return this.indexOf(today);
  }

  /** The number of the period containing `today`, or null when today is outside the goal's range. */
  currentIndex(today: LocalDate): number | null {
    return this.contains(today) ? this.indexOf(today) : null;
  }
}
