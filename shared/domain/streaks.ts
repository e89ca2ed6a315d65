/**
 * Streaks over a goal's periods. Pure.
 *
 * `current` = the number of consecutive met periods ending at the latest met period, provided no missed
 * period comes after it; skipped periods are passed over (they neither count nor break) and so is a pending
 * one (it cannot break a streak; only the current period can be pending). `longest` = the longest such run.
 */
import type { LocalDate, PeriodState, PeriodStatus, StreakSummary } from "./goal-types.ts";

export const STREAK_MILESTONES: readonly number[] = [3, 7, 14, 30, 60, 100, 200, 365];

export const NO_STREAK: StreakSummary = { current: 0, longest: 0, lastMetDate: null };

/** One period further: the fold that `streakOf` and the incremental ledger share. */
export function streakStep(streak: StreakSummary, status: PeriodStatus, startDate: LocalDate): StreakSummary {
  switch (status) {
    case "met": {
      const current = streak.current + 1;
      return { current, longest: Math.max(streak.longest, current), lastMetDate: startDate };
    }
    case "missed":
      return streak.current === 0 ? streak : { ...streak, current: 0 };
    case "pending":
    case "skipped":
      return streak;
  }
}

/** The streak over every period of a goal from its start through the current period, ascending. */
export function streakOf(periods: readonly PeriodState[]): StreakSummary {
  let streak = NO_STREAK;
  for (const period of periods) streak = streakStep(streak, period.status, period.startDate);
  return { ...streak };
}

/** The streak milestones crossed when the current streak goes from `previous` to `next`, ascending. */
export function milestonesReached(previous: number, next: number): number[] {
  return STREAK_MILESTONES.filter((milestone) => previous < milestone && milestone <= next);
}
