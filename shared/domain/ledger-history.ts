/**
 * The outcome of every ended period of a goal, run-length encoded: `"12m1x3s40m"` = 12 met, 1 missed,
 * 3 skipped, 40 met periods from the goal's first period on. Runs are maximal, so a sequence of outcomes has
 * exactly one encoding. A few bytes per change of outcome, whatever the number of activities.
 * And the folds of streak and strength over ended periods, with the very steps `streakOf` and `foldStrength`
 * take, so that folding in pieces gives bit-for-bit the same figures as folding at once.
 */
import type { GoalRules, PeriodState, PeriodStatus, StreakSummary } from "./goal-types.ts";
import type { GoalPeriods } from "./goal-periods.ts";
import { NO_STREAK, streakStep } from "./streaks.ts";
import { strengthMultiplier, strengthStep } from "./strength.ts";

/** An ended period is met, missed or skipped (never pending). */
export type Outcome = "met" | "missed" | "skipped";

const CODE: Record<Outcome, string> = { met: "m", missed: "x", skipped: "s" };
const OUTCOME: Record<string, Outcome> = { m: "met", x: "missed", s: "skipped" };
const TOKEN = /(\d+)([mxs])/g;
const LAST_TOKEN = /(\d+)([mxs])$/;

export interface Run {
  outcome: Outcome;
  count: number;
}

export function toOutcome(status: PeriodStatus): Outcome {
  if (status === "pending") throw new RangeError("an ended period cannot be pending");
  return status;
}

export function runsOf(history: string): Run[] {
  const runs: Run[] = [];
  for (const match of history.matchAll(TOKEN)) {
    const outcome = OUTCOME[match[2] ?? ""];
    if (outcome === undefined) throw new RangeError(`bad history: ${history}`);
    runs.push({ outcome, count: Number(match[1]) });
  }
  return runs;
}

export function decodeHistory(history: string): Outcome[] {
  const outcomes: Outcome[] = [];
  for (const run of runsOf(history)) for (let i = 0; i < run.count; i++) outcomes.push(run.outcome);
  return outcomes;
}

export function encodeHistory(outcomes: readonly Outcome[]): string {
  return appendHistory("", outcomes);
}

/** `history` followed by `outcomes`, still with maximal runs. */
export function appendHistory(history: string, outcomes: readonly Outcome[]): string {
  let prefix = history;
  let outcome: Outcome | null = null;
  let count = 0;
  const last = LAST_TOKEN.exec(history);
  if (last) {
    prefix = history.slice(0, last.index);
    outcome = OUTCOME[last[2] ?? ""] ?? null;
    count = Number(last[1]);
  }
  const parts = [prefix];
  for (const next of outcomes) {
    if (next === outcome) {
      count += 1;
      continue;
    }
    if (outcome !== null) parts.push(`${count}${CODE[outcome]}`);
    outcome = next;
    count = 1;
  }
  if (outcome !== null) parts.push(`${count}${CODE[outcome]}`);
  return parts.join("");
}

/** The ended part of a snapshot, as the incremental functions update it. */
export interface Ended {
  count: number;
  history: string;
  streak: StreakSummary;
  strength: number;
}

/** Folds ended periods onto `ended` with the same steps as `streakOf` and `foldStrength`. */
export function foldEnded(rules: GoalRules, ended: Ended, states: readonly PeriodState[]): Ended {
  let { streak, strength } = ended;
  for (const state of states) {
    streak = streakStep(streak, state.status, state.startDate);
    if (state.status === "met" || state.status === "missed") {
      strength = strengthStep(strength, state.status === "met", strengthMultiplier(rules, state));
    }
  }
  return {
    count: ended.count + states.length,
    history: appendHistory(
      ended.history,
      states.map((state) => toOutcome(state.status)),
    ),
    streak,
    strength,
  };
}

/** The same fold over a whole history, from nothing (after an ended period's outcome changed). */
export function foldHistory(rules: GoalRules, periods: GoalPeriods, outcomes: readonly Outcome[]): Ended {
  let streak = NO_STREAK;
  let strength = 0;
  outcomes.forEach((outcome, index) => {
    if (outcome === "skipped") return;
    const range = periods.at(index);
    streak = streakStep(streak, outcome, range.startDate);
    strength = strengthStep(strength, outcome === "met", strengthMultiplier(rules, range));
  });
  return { count: outcomes.length, history: encodeHistory(outcomes), streak, strength };
}
