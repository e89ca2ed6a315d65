/** Helpers for the domain tests: rules with defaults, an in-memory ledger store, small calendars. */
import type { DayEntry, GoalRules, LocalDate } from "../../../shared/domain/goal-types.ts";
import type { LedgerStore } from "../../../shared/domain/ledger.ts";

export function rulesOf(fields: Partial<GoalRules> & Pick<GoalRules, "pattern" | "startDate">): GoalRules {
  return {
    endDate: null,
    weekStart: "monday",
    target: null,
    timesPerPeriod: null,
    period: null,
    limit: null,
    milestoneCount: null,
    milestonesDone: null,
    ...fields,
  };
}

/** `{ "2026-03-02": 2, "2026-03-04": "skip", "2026-03-05": [1, "skip"] }` → sparse day entries, ascending. */
export type DaySpec = Record<LocalDate, number | "skip" | [number, "skip"]>;

export function days(spec: DaySpec): DayEntry[] {
  return Object.entries(spec)
    .map(([date, value]): DayEntry => {
      if (value === "skip") return { date, total: 0, skipped: true };
      if (Array.isArray(value)) return { date, total: value[0], skipped: true };
      return { date, total: value, skipped: false };
    })
    .sort((a, b) => (a.date < b.date ? -1 : a.date > b.date ? 1 : 0));
}

/** A LedgerStore over a Map, recording every range it is asked for. */
export class MemoryStore implements LedgerStore {
  readonly entries = new Map<LocalDate, DayEntry>();
  readonly reads: [LocalDate, LocalDate][] = [];

  constructor(spec: DaySpec = {}) {
    for (const entry of days(spec)) this.entries.set(entry.date, entry);
  }

  /** Sets a day (a day with total 0 that is not skipped is removed: the store is sparse). */
  put(date: LocalDate, total: number, skipped: boolean): void {
    if (total === 0 && !skipped) this.entries.delete(date);
    else this.entries.set(date, { date, total, skipped });
  }

  get(date: LocalDate): DayEntry {
    return this.entries.get(date) ?? { date, total: 0, skipped: false };
  }

  async days(from: LocalDate, to: LocalDate): Promise<DayEntry[]> {
    this.reads.push([from, to]);
    return [...this.entries.values()]
      .filter((entry) => entry.date >= from && entry.date <= to)
      .sort((a, b) => (a.date < b.date ? -1 : a.date > b.date ? 1 : 0))
      .map((entry) => ({ ...entry }));
  }
}
