import type { Collection } from "../../shared/db/index.ts";
import type { DayEntry, LocalDate } from "../../shared/domain/goal-types.ts";
import type { LedgerStore } from "../../shared/domain/ledger.ts";
import type { GoalDayDoc } from "./model.ts";

/** The ledger rules read a goal's stored days through this: a range query on (goalId, date). */
export function ledgerStoreFor(days: Collection<GoalDayDoc>, goalId: string): LedgerStore {
  return {
    async days(from: LocalDate, to: LocalDate): Promise<DayEntry[]> {
      const docs = await days.find({ goalId, date: { $gte: from, $lte: to } }, { sort: { date: 1 } });
      return docs.map((doc) => ({ date: doc.date, total: doc.total, skipped: doc.skipped === true }));
    },
  };
}
