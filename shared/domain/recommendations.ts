/** Suggestions drawn from a user's own goals: pure rules over what the goals service knows. */
import { daysBetween } from "./calendar.ts";
import type { LocalDate, Pattern } from "./goal-types.ts";
import { type GoalTemplate, TEMPLATES } from "./templates.ts";

export interface GoalSummary {
  id: string;
  title: string;
  pattern: Pattern;
  status: "active" | "completed" | "archived";
  startDate: LocalDate;
  templateId: string | null;
  tags: string[];
  strength: number | null;
  lastMetDate: LocalDate | null;
  currentStreak: number;
}

export interface Recommendation {
  kind: "start_with_template" | "try_template" | "lower_target" | "revive_goal" | "keep_going";
  message: string;
  templateId?: string;
  goalId?: string;
}

/** A goal this old with a strength this low is asking too much. */
const STRUGGLING_AFTER_DAYS = 14;
const STRUGGLING_STRENGTH = 0.25;
/** Nothing met for this long: the goal is abandoned. */
const ABANDONED_AFTER_DAYS = 14;
const CELEBRATED_STREAK = 7;
const MAX_RECOMMENDATIONS = 5;

function coveredCategories(goals: GoalSummary[]): Set<string> {
  const covered = new Set<string>();
  for (const goal of goals) {
    const template = TEMPLATES.find((t) => t.id === goal.templateId);
    if (template) covered.add(template.category);
    for (const t of TEMPLATES) if (goal.tags.some((tag) => t.tags.includes(tag))) covered.add(t.category);
  }
  return covered;
}

function templateSuggestion(
  kind: Recommendation["kind"],
  template: GoalTemplate,
  reason: string,
): Recommendation {
  return { kind, templateId: template.id, message: `${reason}: try "${template.title}".` };
}

export function recommend(goals: GoalSummary[], today: LocalDate): Recommendation[] {
  const active = goals.filter((goal) => goal.status === "active");
  if (goals.length === 0) {
    return TEMPLATES.slice(0, 3).map((t) =>
      templateSuggestion("start_with_template", t, "A small daily habit is a good start"),
    );
  }
  const out: Recommendation[] = [];
  for (const goal of active) {
    const age = daysBetween(goal.startDate, today);
    const idleSince = goal.lastMetDate ?? goal.startDate;
    if (
      goal.pattern !== "milestone" &&
      age >= ABANDONED_AFTER_DAYS &&
      daysBetween(idleSince, today) >= ABANDONED_AFTER_DAYS
    ) {
      out.push({
        kind: "revive_goal",
        goalId: goal.id,
        message: `"${goal.title}" has not been met for ${daysBetween(idleSince, today)} days: log once today, or archive it.`,
      });
    } else if (
      (goal.pattern === "daily" || goal.pattern === "frequency") &&
      age >= STRUGGLING_AFTER_DAYS &&
      (goal.strength ?? 0) < STRUGGLING_STRENGTH
    ) {
      out.push({
        kind: "lower_target",
        goalId: goal.id,
        message: `"${goal.title}" is met less often than not: a smaller target you can keep builds the habit faster.`,
      });
    } else if (goal.currentStreak >= CELEBRATED_STREAK) {
      out.push({
        kind: "keep_going",
        goalId: goal.id,
        message: `${goal.currentStreak} in a row on "${goal.title}": keep it going.`,
      });
    }
  }
  const covered = coveredCategories(goals);
  const fresh = TEMPLATES.filter(
    (t) => !covered.has(t.category) && !goals.some((g) => g.templateId === t.id),
  );
  for (const template of fresh.slice(0, 2)) {
    out.push(templateSuggestion("try_template", template, `Nothing for ${template.category} yet`));
  }
  return out.slice(0, MAX_RECOMMENDATIONS);
}
