/**
 * Reading a goal's periods from its stored day entries: one range read per call. Pure apart from the store.
 */
import type { DayEntry, GoalRules, LocalDate, PeriodState } from "./goal-types.ts";
import { GoalPeriods } from "./goal-periods.ts";
import { evaluatePeriod, periodKindOf } from "./periods.ts";

export interface LedgerStore {
  /** The stored day entries with `from <= date <= to`, ascending by date. */
  days(from: LocalDate, to: LocalDate): Promise<DayEntry[]>;
}

/** Periods `first..last` of the goal, evaluated from one read of the store. */
export async function evaluateRange(
  periods: GoalPeriods,
  store: LedgerStore,
  first: number,
  last: number,
  today: LocalDate,
): Promise<PeriodState[]> {
  const ranges = [];
  for (let index = first; index <= last; index++) ranges.push(periods.at(index));
  const from = ranges[0];
  const to = ranges[ranges.length - 1];
  if (from === undefined || to === undefined) return [];
  const buckets = ranges.map((): DayEntry[] => []);
  for (const day of await store.days(from.startDate, to.endDate)) {
    if (!periods.contains(day.date)) continue;
    buckets[periods.indexOf(day.date) - first]?.push(day);
  }
  return ranges.map((range, i) => evaluatePeriod(periods.rules, range, buckets[i] ?? [], today));
}

/** The evaluated periods that overlap [from, to] (within the goal's range), ascending, skipped ones included. */
export async function periodStates(
  rules: GoalRules,
  store: LedgerStore,
  from: LocalDate,
  to: LocalDate,
  today: LocalDate,
): Promise<PeriodState[]> {
  const kind = periodKindOf(rules);
  if (kind === null) return [];
  const periods = new GoalPeriods(rules, kind);
  const start = from > rules.startDate ? from : rules.startDate;
  const end = rules.endDate !== null && rules.endDate < to ? rules.endDate : to;
  if (end < start) return [];
  return evaluateRange(periods, store, periods.indexOf(start), periods.indexOf(end), today);
}

/** The evaluated period containing `today`, or null when today is outside the goal's range (or milestone). */
export async function currentPeriodState(
  rules: GoalRules,
  store: LedgerStore,
  today: LocalDate,
): Promise<PeriodState | null> {
  const [state] = await periodStates(rules, store, today, today, today);
  return state ?? null;
}
