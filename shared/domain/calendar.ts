/**
 * The user's calendar: local dates, periods (day, week, month) and the instants where local days begin.
 * Pure: time zones come from the runtime's Intl data, "now" is always a parameter.
 *
 * A local date is the date of an instant in the user's IANA zone, shifted back by `dayStartHour` hours of
 * wall-clock time: with dayStartHour 4, 02:30 local on the 21st belongs to the 20th.
 */
import type { LocalDate, PeriodKind } from "./goal-types.ts";
import type { WeekStart } from "./profile.ts";

export interface DateRange {
  startDate: LocalDate;
  endDate: LocalDate;
}

const DAY_MS = 86_400_000;
const HOUR_MS = 3_600_000;
const DATE_SHAPE = /^(\d{4})-(\d{2})-(\d{2})$/;

// ---- Civil dates as day numbers (days since 1970-01-01), proleptic Gregorian calendar. ----

/** Days since 1970-01-01 of a civil date (H. Hinnant's days_from_civil). */
function daysFromCivil(year: number, month: number, day: number): number {
  const y = month <= 2 ? year - 1 : year;
  const era = Math.floor(y / 400);
  const yoe = y - era * 400;
  const doy = Math.floor((153 * (month + (month > 2 ? -3 : 9)) + 2) / 5) + day - 1;
  const doe = yoe * 365 + Math.floor(yoe / 4) - Math.floor(yoe / 100) + doy;
  return era * 146_097 + doe - 719_468;
}

function civilFromDays(days: number): [number, number, number] {
  const z = days + 719_468;
  const era = Math.floor(z / 146_097);
  const doe = z - era * 146_097;
  const yoe = Math.floor(
    (doe - Math.floor(doe / 1460) + Math.floor(doe / 36_524) - Math.floor(doe / 146_096)) / 365,
  );
  const doy = doe - (365 * yoe + Math.floor(yoe / 4) - Math.floor(yoe / 100));
  const mp = Math.floor((5 * doy + 2) / 153);
  const day = doy - Math.floor((153 * mp + 2) / 5) + 1;
  const month = mp < 10 ? mp + 3 : mp - 9;
  return [yoe + era * 400 + (month <= 2 ? 1 : 0), month, day];
}

function daysInMonth(year: number, month: number): number {
  return (
    daysFromCivil(month === 12 ? year + 1 : year, month === 12 ? 1 : month + 1, 1) -
    daysFromCivil(year, month, 1)
  );
}

function parts(date: LocalDate): [number, number, number] {
  const match = DATE_SHAPE.exec(date);
  if (!match) throw new RangeError(`not a local date: ${date}`);
  return [Number(match[1]), Number(match[2]), Number(match[3])];
}

/** Days since 1970-01-01 (negative before). */
export function dayNumber(date: LocalDate): number {
  const [y, m, d] = parts(date);
  return daysFromCivil(y, m, d);
}

export function dateOfDayNumber(days: number): LocalDate {
  const [y, m, d] = civilFromDays(days);
  if (y < 0 || y > 9999) throw new RangeError(`date out of range: day ${days}`);
  return `${String(y).padStart(4, "0")}-${String(m).padStart(2, "0")}-${String(d).padStart(2, "0")}`;
}

/** `YYYY-MM-DD` naming a real calendar date (2026-02-30 is not one). */
export function isLocalDate(value: string): boolean {
  const match = DATE_SHAPE.exec(value);
  if (!match) return false;
  const month = Number(match[2]);
  const day = Number(match[3]);
  return month >= 1 && month <= 12 && day >= 1 && day <= daysInMonth(Number(match[1]), month);
}

export function addDays(date: LocalDate, days: number): LocalDate {
  return dateOfDayNumber(dayNumber(date) + days);
}

/** `to − from` in days. */
export function daysBetween(from: LocalDate, to: LocalDate): number {
  return dayNumber(to) - dayNumber(from);
}

/** Negative, zero or positive as `a` is before, the same as or after `b` (well-formed dates sort as strings). */
export function compareDates(a: LocalDate, b: LocalDate): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

export function minDate(a: LocalDate, b: LocalDate): LocalDate {
  return a <= b ? a : b;
}

export function maxDate(a: LocalDate, b: LocalDate): LocalDate {
  return a >= b ? a : b;
}

/** 0 = Sunday … 6 = Saturday. */
export function dayOfWeek(date: LocalDate): number {
  return (((dayNumber(date) + 4) % 7) + 7) % 7;
}

/** Months since January of year 0: consecutive months have consecutive numbers. */
export function monthNumber(date: LocalDate): number {
  const [y, m] = parts(date);
  return y * 12 + m - 1;
}

/** The first day of the month numbered `month` by `monthNumber`. */
export function firstOfMonth(month: number): LocalDate {
  return dateOfDayNumber(daysFromCivil(Math.floor(month / 12), (month % 12) + 1, 1));
}

// ---- Periods ----

/** The day, week (from `weekStart`) or calendar month that contains `date`. */
export function periodContaining(date: LocalDate, kind: PeriodKind, weekStart: WeekStart): DateRange {
  switch (kind) {
    case "day":
      return { startDate: date, endDate: date };
    case "week": {
      const back = weekStart === "sunday" ? dayOfWeek(date) : (dayOfWeek(date) + 6) % 7;
      const start = dayNumber(date) - back;
      return { startDate: dateOfDayNumber(start), endDate: dateOfDayNumber(start + 6) };
    }
    case "month": {
      const [y, m] = parts(date);
      const first = daysFromCivil(y, m, 1);
      return { startDate: dateOfDayNumber(first), endDate: dateOfDayNumber(first + daysInMonth(y, m) - 1) };
    }
  }
}

/** Every period of `kind` that overlaps [from, to], ascending; empty when `to` is before `from`. */
export function periodsBetween(
  from: LocalDate,
  to: LocalDate,
  kind: PeriodKind,
  weekStart: WeekStart,
): DateRange[] {
  const periods: DateRange[] = [];
  if (to < from) return periods;
  let period = periodContaining(from, kind, weekStart);
  while (period.startDate <= to) {
    periods.push(period);
    period = periodContaining(addDays(period.endDate, 1), kind, weekStart);
  }
  return periods;
}

// ---- Instants and time zones ----

const formatters = new Map<string, Intl.DateTimeFormat>();

function formatterFor(timeZone: string): Intl.DateTimeFormat {
  let formatter = formatters.get(timeZone);
  if (!formatter) {
    formatter = new Intl.DateTimeFormat("en-US", {
      timeZone,
      hourCycle: "h23",
      year: "numeric",
      month: "numeric",
      day: "numeric",
      hour: "numeric",
      minute: "numeric",
      second: "numeric",
    });
    formatters.set(timeZone, formatter);
  }
  return formatter;
}

interface Wall {
  /** day number of the wall-clock date */
  day: number;
  hour: number;
  /** the wall-clock reading as if it were UTC, in ms: comparable across instants of one zone */
  ms: number;
}

/** Zones whose wall clock is UTC's: answered without Intl, whose formatToParts is the cost of a log. */
const UTC_ZONES = new Set(["UTC", "Etc/UTC", "Etc/GMT", "GMT", "Etc/Universal", "Etc/Zulu"]);

function wallClock(instantMs: number, timeZone: string): Wall {
  if (!Number.isFinite(instantMs)) throw new RangeError("invalid instant");
  if (UTC_ZONES.has(timeZone)) {
    const day = Math.floor(instantMs / DAY_MS);
    return { day, hour: Math.floor((instantMs - day * DAY_MS) / HOUR_MS), ms: instantMs };
  }
  let year = 0;
  let month = 0;
  let day = 0;
  let hour = 0;
  let minute = 0;
  let second = 0;
  for (const part of formatterFor(timeZone).formatToParts(instantMs)) {
    switch (part.type) {
      case "year":
        year = Number(part.value);
        break;
      case "month":
        month = Number(part.value);
        break;
      case "day":
        day = Number(part.value);
        break;
      case "hour":
        hour = Number(part.value);
        break;
      case "minute":
        minute = Number(part.value);
        break;
      case "second":
        second = Number(part.value);
        break;
    }
  }
  const dayNo = daysFromCivil(year, month, day);
  const millis = ((instantMs % 1000) + 1000) % 1000; // zone offsets are whole seconds
  return { day: dayNo, hour, ms: dayNo * DAY_MS + hour * HOUR_MS + minute * 60_000 + second * 1000 + millis };
}

function checkDayStartHour(dayStartHour: number): void {
  if (!Number.isInteger(dayStartHour) || dayStartHour < 0 || dayStartHour > 23) {
    throw new RangeError(`dayStartHour must be an integer 0..23, got ${dayStartHour}`);
  }
}

/** The local date of `instant` for a user in `timeZone` whose days start at `dayStartHour` (0..23) local time. */
export function localDateOf(instant: Date, timeZone: string, dayStartHour: number): LocalDate {
  checkDayStartHour(dayStartHour);
  const wall = wallClock(instant.getTime(), timeZone);
  // Shifting the wall clock back by dayStartHour (< 24) hours moves to the previous date exactly when
  // the hour is earlier than dayStartHour.
  return dateOfDayNumber(wall.hour < dayStartHour ? wall.day - 1 : wall.day);
}

/**
 * The first instant whose local date is `date`: the instant the wall clock shows `date` at `dayStartHour`:00,
 * the earlier one when that wall time happens twice (a DST fall-back), and when it does not happen at all
 * (a DST gap, or Samoa's skipped 2011-12-30) the first instant after the gap, whose local date is then
 * the following date.
 */
export function startOfLocalDay(date: LocalDate, timeZone: string, dayStartHour: number): Date {
  checkDayStartHour(dayStartHour);
  const target = dayNumber(date) * DAY_MS + dayStartHour * HOUR_MS; // the wall-clock reading sought
  const offsetAt = (instantMs: number): number => wallClock(instantMs, timeZone).ms - instantMs;
  const before = offsetAt(target - 2 * DAY_MS);
  const after = offsetAt(target + 2 * DAY_MS);
  const candidates = new Set<number>();
  for (const offset of [before, after]) {
    candidates.add(target - offset);
    candidates.add(target - offsetAt(target - offset));
  }
  let first: number | null = null;
  for (const instant of candidates) {
    if (wallClock(instant, timeZone).ms === target && (first === null || instant < first)) first = instant;
  }
  if (first !== null) return new Date(first);
  // The wall time does not exist: find the first instant whose wall clock reads later than it.
  let lo = target - Math.max(before, after) - 2 * DAY_MS; // reads earlier than the target
  let hi = target - Math.min(before, after) + 2 * DAY_MS; // reads later than the target
  while (hi - lo > 1) {
    const mid = Math.floor((lo + hi) / 2);
    if (wallClock(mid, timeZone).ms >= target) hi = mid;
    else lo = mid;
  }
  return new Date(hi);
}
