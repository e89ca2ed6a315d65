import { defineModel } from "../../shared/db/index.ts";
import type { LocalDate, Pattern, PeriodKind } from "../../shared/domain/goal-types.ts";

export type GoalStatus = "active" | "completed" | "archived";

export interface MilestoneDoc {
  id: string;
  title: string;
  completedAt: Date | null;
}

export interface GoalDoc {
  _id: string;
  userId: string;
  title: string;
  description: string;
  tags: string[];
  pattern: Pattern;
  target: number | null;
  unit: string | null;
  timesPerPeriod: number | null;
  period: PeriodKind | null;
  limit: number | null;
  milestones: MilestoneDoc[] | null;
  startDate: LocalDate;
  endDate: LocalDate | null;
  templateId: string | null;
  status: GoalStatus;
  /** Status before archiving, restored by unarchive. */
  statusBeforeArchive: GoalStatus | null;
  version: number;
  createdAt: Date;
  updatedAt: Date;
}

export const goals = defineModel<GoalDoc>({
  name: "goals",
  fields: {
    userId: { type: String, required: true },
    title: { type: String, required: true },
    description: { type: String, default: "" },
    tags: { type: [String], default: [] },
    pattern: { type: String, required: true },
    target: { type: Number, default: null },
    unit: { type: String, default: null },
    timesPerPeriod: { type: Number, default: null },
    period: { type: String, default: null },
    limit: { type: Number, default: null },
    milestones: {
      type: [{ _id: false, id: String, title: String, completedAt: { type: Date, default: null } }],
      default: null,
    },
    startDate: { type: String, required: true },
    endDate: { type: String, default: null },
    templateId: { type: String, default: null },
    status: { type: String, required: true },
    statusBeforeArchive: { type: String, default: null },
    version: { type: Number, required: true },
    createdAt: { type: Date, required: true },
    updatedAt: { type: Date, required: true },
  },
  indexes: [{ fields: { userId: 1, _id: -1 } }, { fields: { userId: 1, status: 1 } }],
});

export interface SkipDoc {
  /** `<goalId>:<date>`: one skip per goal and date. */
  _id: string;
  goalId: string;
  userId: string;
  date: LocalDate;
}

export const skips = defineModel<SkipDoc>({
  name: "skips",
  fields: {
    goalId: { type: String, required: true },
    userId: { type: String, required: true },
    date: { type: String, required: true },
  },
  indexes: [{ fields: { goalId: 1, date: 1 } }, { fields: { userId: 1 } }],
});
