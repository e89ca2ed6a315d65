import type { Collection } from "../../shared/db/index.ts";
import { addDays, compareDates, daysBetween } from "../../shared/domain/calendar.ts";
import type { DayEntry, LocalDate } from "../../shared/domain/goal-types.ts";
import type { LedgerStore } from "../../shared/domain/ledger.ts";
import type { GoalDayDoc } from "./model.ts";

/**
 * Ranges up to this many days are read by their document ids: NeDB cannot use the (goalId, date)
 * index for a range and would scan every stored day of every goal. Longer ranges (full
 * recomputations) read the goal's days through its goalId index.
 */
const BY_ID_MAX_DAYS = 62;

function toEntry(doc: GoalDayDoc): DayEntry {
  return { date: doc.date, total: doc.total ?? 0, skipped: doc.skipped === true };
}

/** The ledger rules read a goal's stored days through this. */
export function ledgerStoreFor(days: Collection<GoalDayDoc>, goalId: string): LedgerStore {
  return {
    async days(from: LocalDate, to: LocalDate): Promise<DayEntry[]> {
      if (compareDates(from, to) > 0) return [];
      if (daysBetween(from, to) < BY_ID_MAX_DAYS) {
        const ids: string[] = [];
        for (let date = from; compareDates(date, to) <= 0; date = addDays(date, 1))
          ids.push(`${goalId}:${date}`);
        const docs = await days.find({ _id: { $in: ids } });
        return docs.map(toEntry).sort((a, b) => compareDates(a.date, b.date));
      }
      const docs = await days.find({ goalId });
      return docs
        .filter((doc) => compareDates(doc.date, from) >= 0 && compareDates(doc.date, to) <= 0)
        .map(toEntry)
        .sort((a, b) => compareDates(a.date, b.date));
    },
  };
}
