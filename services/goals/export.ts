import { once } from "node:events";
import { Readable, type Writable } from "node:stream";
import { stringify } from "csv-stringify";
import type { GoalDoc } from "./model.ts";

/** One page of a user's activities, oldest id first, from the activity service. */
export type ActivityPageReader = (afterId: string | null) => Promise<ExportedActivity[]>;

export interface ExportedActivity {
  id: string;
  goalId: string;
  quantity: number;
  note: string | null;
  occurredAt: string;
  localDate: string;
  milestoneId: string | null;
  createdAt: string;
}

export const CSV_COLUMNS = [
  "type",
  "id",
  "goalId",
  "title",
  "pattern",
  "status",
  "startDate",
  "endDate",
  "target",
  "unit",
  "quantity",
  "note",
  "occurredAt",
  "localDate",
  "createdAt",
] as const;

function goalRow(goal: GoalDoc): Record<string, unknown> {
  return {
    type: "goal",
    id: goal._id,
    goalId: goal._id,
    title: goal.title,
    pattern: goal.pattern,
    status: goal.status,
    startDate: goal.startDate,
    endDate: goal.endDate,
    target: goal.target ?? goal.limit ?? goal.timesPerPeriod,
    unit: goal.unit,
    createdAt: goal.createdAt.toISOString(),
  };
}

export function exportedGoal(goal: GoalDoc) {
  const { _id, userId: _userId, statusBeforeArchive: _before, ...fields } = goal;
  return {
    id: _id,
    ...fields,
    milestones:
      goal.milestones?.map((m) => ({ ...m, completedAt: m.completedAt?.toISOString() ?? null })) ?? null,
    createdAt: goal.createdAt.toISOString(),
    updatedAt: goal.updatedAt.toISOString(),
  };
}

async function* activityPages(read: ActivityPageReader): AsyncGenerator<ExportedActivity[]> {
  let after: string | null = null;
  for (;;) {
    const page = await read(after);
    if (page.length === 0) return;
    yield page;
    after = page[page.length - 1]!.id;
  }
}

/** CSV with a header row, goal rows then activity rows, streamed page by page (csv-stringify quotes). */
export function csvExport(goals: GoalDoc[], read: ActivityPageReader): Readable {
  const csv = stringify({ header: true, columns: [...CSV_COLUMNS] });
  const write = async (stream: Writable, row: Record<string, unknown>) => {
    if (!stream.write(row)) await once(stream, "drain");
  };
  void (async () => {
    try {
      for (const goal of goals) await write(csv, goalRow(goal));
      for await (const page of activityPages(read)) {
        for (const activity of page) await write(csv, { type: "activity", ...activity });
      }
      csv.end();
    } catch (error) {
      csv.destroy(error as Error);
    }
  })();
  return csv;
}

/** `{exportedAt, goals, activities}` as JSON text, streamed page by page. */
export function jsonExport(goals: GoalDoc[], read: ActivityPageReader): Readable {
  async function* chunks(): AsyncGenerator<string> {
    yield `{"exportedAt":${JSON.stringify(new Date().toISOString())},"goals":${JSON.stringify(goals.map(exportedGoal))},"activities":[`;
    let first = true;
    for await (const page of activityPages(read)) {
      for (const activity of page) {
        yield (first ? "" : ",") + JSON.stringify(activity);
        first = false;
      }
    }
    yield "]}";
  }
  return Readable.from(chunks());
}
