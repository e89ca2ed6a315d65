import type { GoalState } from "../../shared/bus/channels.ts";
import type { GoalRules, Progress, StreakSummary } from "../../shared/domain/goal-types.ts";
import type { WeekStart } from "../../shared/domain/profile.ts";
import type { GoalDoc } from "./model.ts";

/** What the streak service reports for one goal. */
export interface GoalDerived {
  progress: Progress | null;
  streak: StreakSummary | null;
  strength: number | null;
}

export function rulesOf(goal: GoalDoc, weekStart: WeekStart): GoalRules {
  const milestones = goal.milestones ?? [];
  return {
    pattern: goal.pattern,
    startDate: goal.startDate,
    endDate: goal.endDate,
    weekStart,
    target: goal.target,
    timesPerPeriod: goal.timesPerPeriod,
    period: goal.period,
    limit: goal.limit,
    milestoneCount: goal.pattern === "milestone" ? milestones.length : null,
    milestonesDone:
      goal.pattern === "milestone" ? milestones.filter((m) => m.completedAt !== null).length : null,
  };
}

export function stateOf(goal: GoalDoc, weekStart: WeekStart): GoalState {
  return {
    goalId: goal._id,
    userId: goal.userId,
    version: goal.version,
    rules: rulesOf(goal, weekStart),
    status: goal.status,
  };
}

/** The goal as the API shows it: pattern fields only where they belong. */
export function toGoalView(goal: GoalDoc, derived: GoalDerived) {
  const view: Record<string, unknown> = {
    id: goal._id,
    title: goal.title,
    description: goal.description,
    tags: goal.tags,
    pattern: goal.pattern,
  };
  for (const field of ["target", "unit", "timesPerPeriod", "period", "limit"] as const) {
    if (goal[field] !== null) view[field] = goal[field];
  }
  if (goal.milestones) {
    view.milestones = goal.milestones.map((m) => ({
      id: m.id,
      title: m.title,
      completedAt: m.completedAt?.toISOString() ?? null,
    }));
  }
  return {
    ...view,
    startDate: goal.startDate,
    endDate: goal.endDate,
    templateId: goal.templateId,
    status: goal.status,
    version: goal.version,
    createdAt: goal.createdAt.toISOString(),
    updatedAt: goal.updatedAt.toISOString(),
    progress: derived.progress,
    streak: goal.pattern === "milestone" ? null : derived.streak,
    strength: goal.pattern === "milestone" ? null : derived.strength,
  };
}
