/** When the scheduled notifications of a user fall due, in the user's own calendar. Pure. */
import { addDays, localDateOf, periodContaining, startOfLocalDay } from "../../shared/domain/calendar.ts";
import type { LocalDate } from "../../shared/domain/goal-types.ts";
import type { WeekStart } from "../../shared/domain/profile.ts";

export interface UserClock {
  timezone: string;
  dayStartHour: number;
  weekStart: WeekStart;
}

/** The hour at which the weekly summary goes out on the first day of the week. */
export const WEEKLY_SUMMARY_TIME = "08:00";

/**
 * The instant the wall clock shows `time` (HH:MM) within local day `date`. With a day start of 4, 02:00
 * belongs to the evening of the day before, so it is read on the next calendar date.
 */
export function instantOfLocalTime(date: LocalDate, time: string, clock: UserClock): Date {
  const [hour, minute] = time.split(":").map(Number) as [number, number];
  const wallDate = hour >= clock.dayStartHour ? date : addDays(date, 1);
  return new Date(startOfLocalDay(wallDate, clock.timezone, hour).getTime() + minute * 60_000);
}

/** The user's today, and whether their reminder time of today has passed. */
export function reminderState(now: Date, clock: UserClock, reminderTime: string) {
  const today = localDateOf(now, clock.timezone, clock.dayStartHour);
  return { today, due: now.getTime() >= instantOfLocalTime(today, reminderTime, clock).getTime() };
}

/**
 * The week a summary is due for now: the previous week, when today is the user's first day of the week and
 * it is 08:00 local or later (or the day has begun, for a day start after 08:00); null otherwise.
 */
export function weeklySummaryDue(now: Date, clock: UserClock): LocalDate | null {
  const today = localDateOf(now, clock.timezone, clock.dayStartHour);
  if (periodContaining(today, "week", clock.weekStart).startDate !== today) return null;
  const [hour] = WEEKLY_SUMMARY_TIME.split(":").map(Number) as [number];
  const dueAt =
    clock.dayStartHour <= hour
      ? instantOfLocalTime(today, WEEKLY_SUMMARY_TIME, clock)
      : startOfLocalDay(today, clock.timezone, clock.dayStartHour);
  return now.getTime() >= dueAt.getTime() ? addDays(today, -7) : null;
}
