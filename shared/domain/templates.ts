/** The goal templates offered to every user: data, not code. */
import type { Pattern, PeriodKind } from "./goal-types.ts";

export interface GoalTemplate {
  id: string;
  category: "health" | "fitness" | "mind" | "learning";
  title: string;
  description: string;
  pattern: Pattern;
  target?: number;
  unit?: string;
  timesPerPeriod?: number;
  period?: PeriodKind;
  tags: string[];
}

export const TEMPLATES: readonly GoalTemplate[] = [
  {
    id: "drink-water",
    category: "health",
    title: "Drink 8 glasses of water",
    description: "Eight glasses over the day; log each glass.",
    pattern: "daily",
    target: 8,
    unit: "glasses",
    tags: ["health", "hydration"],
  },
  {
    id: "exercise-3x-week",
    category: "fitness",
    title: "Exercise 30 minutes, 3 times a week",
    description: "A day counts when you log at least 30 minutes.",
    pattern: "frequency",
    timesPerPeriod: 3,
    period: "week",
    target: 30,
    unit: "minutes",
    tags: ["fitness"],
  },
  {
    id: "read-20-pages",
    category: "learning",
    title: "Read 20 pages",
    description: "Twenty pages a day, any book.",
    pattern: "daily",
    target: 20,
    unit: "pages",
    tags: ["reading", "learning"],
  },
  {
    id: "meditate-10-minutes",
    category: "mind",
    title: "Meditate 10 minutes",
    description: "Ten minutes of meditation every day.",
    pattern: "daily",
    target: 10,
    unit: "minutes",
    tags: ["mindfulness"],
  },
  {
    id: "sleep-8-hours",
    category: "health",
    title: "Sleep 8 hours",
    description: "Log the hours slept each night; a night counts on the day you wake up.",
    pattern: "daily",
    target: 8,
    unit: "hours",
    tags: ["health", "sleep"],
  },
  {
    id: "walk-10000-steps",
    category: "fitness",
    title: "Walk 10,000 steps",
    description: "Ten thousand steps a day.",
    pattern: "daily",
    target: 10000,
    unit: "steps",
    tags: ["fitness", "walking"],
  },
];

export function templateById(id: string): GoalTemplate | undefined {
  return TEMPLATES.find((template) => template.id === id);
}
