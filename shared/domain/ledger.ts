/**
 * A goal's ledger: streak and strength kept up to date incrementally from its sparse day entries, always
 * equal to a full recomputation. Pure apart from reading the day entries through `LedgerStore`.
 *
 * ## The snapshot
 * Every period of a goal is either *ended* (its clipped end is before today: met, missed or skipped, and
 * from then on a function of its own day entries only) or *current* (contains today), or does not exist yet.
 * The snapshot keeps
 * - `history`: the outcome of every ended period, run-length encoded (see ledger-history.ts);
 * - the streak and strength folded through the ended periods (`endedRun`, `endedLongest`,
 *   `endedLastMetDate`, `endedStrength`), exactly as `streakOf` / `foldStrength` fold them;
 * - `currentStatus`, the status of the period containing `asOf`;
 * - `streak` and `strength`: the ended fold followed by the current period (the public figures).
 *
 * ## Why it equals `recompute`
 * `recompute` evaluates every period from the store and folds them with `streakOf` and `foldStrength`.
 * The incremental functions keep the same outcomes: a period's outcome depends only on the rules, its own
 * day entries and whether it has ended, so a day change can alter only the period containing that day, and
 * the passing of time only turns the current period (and any periods that went by unseen) into ended ones. Every
 * period that may differ is re-evaluated from the store, the others keep their recorded outcome; and the
 * folds run over the same outcomes in the same order with the same floating-point steps (`streakStep`,
 * `strengthStep`, `strengthMultiplier`), so even the strength is bit-for-bit identical. The run-length
 * encoding is canonical (maximal runs), so `history` is identical too.
 *
 * ## Costs (reads are ranges of stored day entries, i.e. only days with activity or a skip)
 * - A change in the current period (the ordinary log for today, an edit, a skip): one read of that period
 *   (≤ 31 days); O(1) arithmetic, history untouched.
 * - Time passing (`viewAt`, or any call with a later `today`): nothing when still in the same period;
 *   otherwise one read from the previous current period to the new one, O(periods elapsed) arithmetic.
 * - A change in an ended period (backdated log, edit, delete, skip): one read per contiguous block of
 *   changed periods (only the changed periods themselves, not the ones after them); if an outcome changed,
 *   the history is re-folded in memory: O(number of ended periods) arithmetic and no reads. This covers
 *   the cases that shrink `longest` too: no full recomputation is ever needed.
 * - `recompute`: one read of the whole range, O(periods + entries). Used when there is no snapshot, when the
 *   rules changed (detected through `rulesKey`), or when `today` moved backwards (a time-zone change).
 * Size: `history` grows by a few bytes per change of outcome, not per activity or per period (a daily goal
 * missed every third day for ten years: about 5 KB, re-folded in about 3 ms).
 */
import { isLocalDate } from "./calendar.ts";
import type { GoalRules, LocalDate, PeriodStatus, StreakSummary } from "./goal-types.ts";
import { GoalPeriods } from "./goal-periods.ts";
import {
  decodeHistory,
  encodeHistory,
  foldEnded,
  foldHistory,
  toOutcome,
  type Ended,
} from "./ledger-history.ts";
import { evaluateRange, type LedgerStore } from "./ledger-reads.ts";
import { periodKindOf } from "./periods.ts";
import { NO_STREAK, streakOf, streakStep } from "./streaks.ts";
import { countsForStrength, foldStrength, strengthMultiplier, strengthStep } from "./strength.ts";

export { currentPeriodState, periodStates, type LedgerStore } from "./ledger-reads.ts";

/** Bumped when the snapshot's meaning changes: an older snapshot is then recomputed. */
export const LEDGER_FORMAT = 1;

export interface LedgerSnapshot {
  /** The goal's streak on `asOf` (all zeros for milestone goals, whose streak is null in the API). */
  streak: StreakSummary;
  /** 0..1; null for milestone goals. */
  strength: number | null;
  format: number;
  /** The `today` this snapshot describes. */
  asOf: LocalDate;
  /** The rules it was computed under (`ledgerRulesKey`); any other rules mean a recomputation. */
  rulesKey: string;
  /** Outcomes of the ended periods, from the goal's first period, run-length encoded. */
  history: string;
  /** How many periods have ended (the length of `history`). */
  endedCount: number;
  /** Streak and strength folded through the ended periods only. */
  endedRun: number;
  endedLongest: number;
  endedLastMetDate: LocalDate | null;
  endedStrength: number | null;
  /** Status of the period containing `asOf`; null when asOf is outside the goal's range. */
  currentStatus: PeriodStatus | null;
}

/** What of the rules the ledger depends on. */
export function ledgerRulesKey(rules: GoalRules): string {
  const kind = periodKindOf(rules);
  if (kind === null) return JSON.stringify([rules.pattern]);
  const { pattern, startDate, endDate, target, timesPerPeriod, period, limit } = rules;
  const weekStart = kind === "week" ? rules.weekStart : null;
  return JSON.stringify([pattern, startDate, endDate, weekStart, target, timesPerPeriod, period, limit]);
}

function snapshotOf(
  rules: GoalRules,
  periods: GoalPeriods,
  today: LocalDate,
  ended: Ended,
  currentStatus: PeriodStatus | null,
): LedgerSnapshot {
  const currentIndex = periods.currentIndex(today);
  let streak = ended.streak;
  let strength = ended.strength;
  if (currentIndex !== null && currentStatus !== null) {
    const current = { ...periods.at(currentIndex), value: 0, status: currentStatus };
    streak = streakStep(streak, currentStatus, current.startDate);
    if (countsForStrength(current, today)) {
      strength = strengthStep(strength, currentStatus === "met", strengthMultiplier(rules, current));
    }
  }
  return {
    streak: { ...streak },
    strength,
    format: LEDGER_FORMAT,
    asOf: today,
    rulesKey: ledgerRulesKey(rules),
    history: ended.history,
    endedCount: ended.count,
    endedRun: ended.streak.current,
    endedLongest: ended.streak.longest,
    endedLastMetDate: ended.streak.lastMetDate,
    endedStrength: ended.strength,
    currentStatus: currentIndex === null ? null : currentStatus,
  };
}

function milestoneSnapshot(rules: GoalRules, today: LocalDate): LedgerSnapshot {
  return {
    streak: { ...NO_STREAK },
    strength: null,
    format: LEDGER_FORMAT,
    asOf: today,
    rulesKey: ledgerRulesKey(rules),
    history: "",
    endedCount: 0,
    endedRun: 0,
    endedLongest: 0,
    endedLastMetDate: null,
    endedStrength: null,
    currentStatus: null,
  };
}

/** Full recomputation from the day entries: the reference the incremental functions are equal to. */
export async function recompute(
  rules: GoalRules,
  store: LedgerStore,
  today: LocalDate,
): Promise<LedgerSnapshot> {
  const kind = periodKindOf(rules);
  if (kind === null) return milestoneSnapshot(rules, today);
  const periods = new GoalPeriods(rules, kind);
  const endedCount = periods.endedCount(today);
  const currentIndex = periods.currentIndex(today);
  const states = await evaluateRange(periods, store, 0, currentIndex ?? endedCount - 1, today);
  const ended = states.slice(0, endedCount);
  const endedStreak = streakOf(ended);
  return {
    streak: streakOf(states),
    strength: foldStrength(rules, 0, states, today),
    format: LEDGER_FORMAT,
    asOf: today,
    rulesKey: ledgerRulesKey(rules),
    history: encodeHistory(ended.map((state) => toOutcome(state.status))),
    endedCount,
    endedRun: endedStreak.current,
    endedLongest: endedStreak.longest,
    endedLastMetDate: endedStreak.lastMetDate,
    endedStrength: foldStrength(rules, 0, ended),
    currentStatus: currentIndex === null ? null : (states[endedCount]?.status ?? null),
  };
}

/** Whether `snapshot` can be carried forward to `today` under `rules` (else: recompute). */
function usable(
  snapshot: LedgerSnapshot | null,
  rules: GoalRules,
  periods: GoalPeriods,
  today: LocalDate,
): snapshot is LedgerSnapshot {
  return (
    snapshot !== null &&
    snapshot.format === LEDGER_FORMAT &&
    snapshot.rulesKey === ledgerRulesKey(rules) &&
    snapshot.asOf <= today &&
    snapshot.endedStrength !== null &&
    snapshot.endedCount === periods.endedCount(snapshot.asOf)
  );
}

function endedOf(snapshot: LedgerSnapshot): Ended {
  return {
    count: snapshot.endedCount,
    history: snapshot.history,
    streak: {
      current: snapshot.endedRun,
      longest: snapshot.endedLongest,
      lastMetDate: snapshot.endedLastMetDate,
    },
    strength: snapshot.endedStrength ?? 0,
  };
}

interface Working {
  ended: Ended;
  currentStatus: PeriodStatus | null;
  /** Periods evaluated from the store during this call (already up to date). */
  fresh: { first: number; last: number } | null;
}

/** Moves a snapshot from `asOf` to a later `today`: periods that ended meanwhile join the history. */
async function advance(
  periods: GoalPeriods,
  snapshot: LedgerSnapshot,
  store: LedgerStore,
  today: LocalDate,
): Promise<Working> {
  const ended = endedOf(snapshot);
  const unchanged: Working = { ended, currentStatus: snapshot.currentStatus, fresh: null };
  if (today === snapshot.asOf) return unchanged;
  const endedCount = periods.endedCount(today);
  const currentIndex = periods.currentIndex(today);
  const last = currentIndex ?? endedCount - 1;
  if (last < ended.count) return { ...unchanged, currentStatus: null }; // not started yet, or over
  // Still inside the same open period: its status does not depend on the date while it is open.
  if (endedCount === ended.count && currentIndex === periods.currentIndex(snapshot.asOf)) return unchanged;
  const states = await evaluateRange(periods, store, ended.count, last, today);
  const newlyEnded = states.slice(0, endedCount - ended.count);
  return {
    ended: foldEnded(periods.rules, ended, newlyEnded),
    currentStatus: currentIndex === null ? null : (states[states.length - 1]?.status ?? null),
    fresh: { first: ended.count, last },
  };
}

/** `snapshot` brought to a later `today`; equal to `recompute(rules, store, today)`. */
export async function viewAt(
  rules: GoalRules,
  snapshot: LedgerSnapshot | null,
  store: LedgerStore,
  today: LocalDate,
): Promise<LedgerSnapshot> {
  return applyDayChanges(rules, snapshot, [], store, today);
}

/**
 * The snapshot after the day entries of `changedDates` changed (the store already holds the new entries),
 * on `today`; equal to `recompute(rules, store, today)`. Costs: see the top of this file.
 */
export async function applyDayChanges(
  rules: GoalRules,
  snapshot: LedgerSnapshot | null,
  changedDates: readonly LocalDate[],
  store: LedgerStore,
  today: LocalDate,
): Promise<LedgerSnapshot> {
  const kind = periodKindOf(rules);
  if (kind === null) return recompute(rules, store, today);
  const periods = new GoalPeriods(rules, kind);
  if (!usable(snapshot, rules, periods, today)) return recompute(rules, store, today);
  const working = await advance(periods, snapshot, store, today);
  let { ended, currentStatus } = working;
  const currentIndex = periods.currentIndex(today);

  const touched = new Set<number>();
  for (const date of changedDates) {
    if (!isLocalDate(date) || !periods.contains(date)) continue;
    const index = periods.indexOf(date);
    if (working.fresh && index >= working.fresh.first && index <= working.fresh.last) continue;
    if (index < ended.count || index === currentIndex) touched.add(index);
    // A later period does not exist yet: it is read when it becomes current.
  }

  if (currentIndex !== null && touched.delete(currentIndex)) {
    const [state] = await evaluateRange(periods, store, currentIndex, currentIndex, today);
    currentStatus = state?.status ?? null;
  }

  if (touched.size > 0) {
    const outcomes = decodeHistory(ended.history);
    let changed = false;
    for (const [first, last] of blocks([...touched].sort((a, b) => a - b))) {
      const states = await evaluateRange(periods, store, first, last, today);
      states.forEach((state, i) => {
        const outcome = toOutcome(state.status);
        if (outcomes[first + i] !== outcome) {
          outcomes[first + i] = outcome;
          changed = true;
        }
      });
    }
    if (changed) ended = foldHistory(rules, periods, outcomes);
  }
  return snapshotOf(rules, periods, today, ended, currentStatus);
}

/** Sorted distinct numbers grouped into runs of consecutive ones: [1,2,3,7] → [[1,3],[7,7]]. */
function blocks(sorted: readonly number[]): [number, number][] {
  const result: [number, number][] = [];
  for (const n of sorted) {
    const lastBlock = result[result.length - 1];
    if (lastBlock && lastBlock[1] === n - 1) lastBlock[1] = n;
    else result.push([n, n]);
  }
  return result;
}
