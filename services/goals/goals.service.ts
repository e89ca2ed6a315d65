import type { ServiceSchema } from "moleculer";
import { goalHistoryRoutes, goalRoutes } from "../../shared/api/goals.ts";
import { actionParamsSchema } from "../../shared/api/route.ts";
import type { RequestContext } from "../../shared/context.ts";
import type { Collection } from "../../shared/db/index.ts";
import { addDays, compareDates, daysBetween, localDateOf } from "../../shared/domain/calendar.ts";
import type { LocalDate, Pattern, Progress } from "../../shared/domain/goal-types.ts";
import { checkPatternFields, PATTERNS, type PatternFields } from "../../shared/domain/patterns.ts";
import { templateById, TEMPLATES } from "../../shared/domain/templates.ts";
import { AppError } from "../../shared/errors.ts";
import { newId } from "../../shared/ids.ts";
import { healthMixin } from "../../shared/mixins.ts";
import { goalsCreated } from "../../shared/ops/metrics.ts";
import type { ServiceDeps } from "../../shared/runtime-types.ts";
import { type UserSettings, userSettings } from "../../shared/user-settings.ts";
import { type GoalDerived, stateOf, toGoalView } from "./goal-view.ts";
import { type GoalDoc, goals, type GoalStatus, type SkipDoc, skips } from "./model.ts";
import { insightRoutes } from "../../shared/api/insights.ts";
import { templateRoutes } from "../../shared/api/templates.ts";
import { recommend } from "../../shared/domain/recommendations.ts";
import { csvExport, type ExportedActivity, jsonExport } from "./export.ts";

interface GoalInput extends PatternFields {
  pattern?: string;
  templateId?: string;
  title?: string;
  description?: string;
  tags?: string[];
  startDate?: LocalDate;
  milestones?: { id?: string; title: string }[];
}

interface ListParams {
  status?: GoalStatus;
  pattern?: Pattern;
  tag?: string;
  limit: number;
  cursor?: string;
}

const MAX_SKIP_RANGE_DAYS = 31;
const MAX_SERIES_DAYS = 366;

function invalidPattern(details: { path: string; message: string }[]): AppError {
  return new AppError("INVALID_GOAL_PATTERN", "The fields do not fit the goal's pattern", { details });
}

function assertDateOrder(startDate: LocalDate, endDate: LocalDate | null | undefined): void {
  if (endDate != null && compareDates(endDate, startDate) <= 0) {
    throw new AppError("INVALID_DATE_RANGE", "endDate must be after startDate", {
      details: [{ path: "/endDate", message: "must be after startDate" }],
    });
  }
}

function cursorOf(id: string): string {
  return Buffer.from(id).toString("base64url");
}

function idFromCursor(cursor: string): string {
  return Buffer.from(cursor, "base64url").toString();
}

/** Goal definitions, the five patterns, quota, archive, versions, skips and templates. Owns `goals` and `skips`. */
export default function goalsService(deps: ServiceDeps): ServiceSchema {
  const { config, storage, bus } = deps;
  let goalStore: Collection<GoalDoc>;
  let skipStore: Collection<SkipDoc>;

  const userIdOf = (ctx: RequestContext<unknown>): string => {
    const id = ctx.meta.user?.id;
    if (!id) throw new AppError("UNAUTHORIZED");
    return id;
  };

  async function owned(goalId: string, userId: string): Promise<GoalDoc> {
    const goal = await goalStore.findOne({ _id: goalId, userId });
    if (!goal) throw new AppError("GOAL_NOT_FOUND");
    return goal;
  }

  const todayOf = (settings: UserSettings): LocalDate =>
    localDateOf(new Date(), settings.timezone, settings.dayStartHour);

  async function derivedFor(
    ctx: RequestContext<unknown>,
    list: GoalDoc[],
    settings: UserSettings,
  ): Promise<Map<string, GoalDerived>> {
    if (list.length === 0) return new Map();
    const views = await ctx.call<Record<string, GoalDerived>, object>("streak.views", {
      today: todayOf(settings),
      goals: list.map((goal) => stateOf(goal, settings.weekStart)),
    });
    return new Map(Object.entries(views));
  }

  const NOTHING_DERIVED: GoalDerived = { progress: null, streak: null, strength: null };

  async function viewOne(ctx: RequestContext<unknown>, goal: GoalDoc, settings?: UserSettings) {
    const profile = settings ?? (await userSettings(ctx, goal.userId));
    const derived = await derivedFor(ctx, [goal], profile);
    return toGoalView(goal, derived.get(goal._id) ?? NOTHING_DERIVED);
  }

  /**
   * The answer to a change that is already stored: with the streak service down it still answers
   * (progress, streak and strength null) rather than a 503 that would claim nothing was done.
   */
  async function viewAfterWrite(ctx: RequestContext<unknown>, goal: GoalDoc, settings: UserSettings) {
    try {
      return await viewOne(ctx, goal, settings);
    } catch (error) {
      ctx.service?.logger.warn("goal answered without its streak", String(error));
      return toGoalView(goal, NOTHING_DERIVED);
    }
  }

  /** Brings the streak up to date now when it can; the channel message does it later otherwise. */
  async function tellStreak(ctx: RequestContext<unknown>, action: string, params: object): Promise<void> {
    try {
      await ctx.call(action, params);
    } catch (error) {
      ctx.service?.logger.warn(`${action} deferred to the channel`, String(error));
    }
  }

  async function countActive(userId: string): Promise<number> {
    return goalStore.count({ userId, status: { $in: ["active", "completed"] } });
  }

  async function assertQuota(userId: string): Promise<void> {
    if ((await countActive(userId)) >= config.maxActiveGoals) {
      throw new AppError(
        "GOAL_QUOTA_EXCEEDED",
        `At most ${config.maxActiveGoals} goals can be active; archive one first`,
      );
    }
  }

  /** Tells the streak service, durably, that the goal's rules or status changed. */
  async function announce(goal: GoalDoc, settings: UserSettings): Promise<void> {
    const state = stateOf(goal, settings.weekStart);
    await bus.publish("goal.changed", { ...state, today: todayOf(settings) }, `${goal._id}:${goal.version}`);
  }

  function resolveInput(input: GoalInput): GoalInput {
    if (input.templateId === undefined) return input;
    const template = templateById(input.templateId);
    if (!template) throw new AppError("NOT_FOUND", "No such template");
    const { id: _id, category: _category, ...defaults } = template;
    return { ...defaults, ...input };
  }

  function patternOf(value: string | undefined): Pattern {
    if (!PATTERNS.includes(value as Pattern)) {
      throw invalidPattern([{ path: "/pattern", message: `must be one of ${PATTERNS.join(", ")}` }]);
    }
    return value as Pattern;
  }

  async function setStatus(goal: GoalDoc, changes: Partial<GoalDoc>): Promise<GoalDoc> {
    const updated = await goalStore.findOneAndUpdate(
      { _id: goal._id, version: goal.version },
      { $set: { ...changes, updatedAt: new Date() }, $inc: { version: 1 } },
    );
    if (!updated) throw new AppError("VERSION_CONFLICT");
    return updated;
  }

  return {
    name: "goals",
    mixins: [healthMixin({ database: () => storage.ping(), bus: () => bus.ping() })],

    actions: {
      create: {
        params: actionParamsSchema(goalRoutes.create),
        async handler(ctx: RequestContext<GoalInput>) {
          const userId = userIdOf(ctx);
          const input = resolveInput(ctx.params);
          const pattern = patternOf(input.pattern);
          const { details, fields } = checkPatternFields(pattern, input);
          if (details.length > 0) throw invalidPattern(details);
          const settings = await userSettings(ctx, userId);
          const startDate = input.startDate ?? todayOf(settings);
          assertDateOrder(startDate, input.endDate);
          await assertQuota(userId);
          const now = new Date();
          const goal: GoalDoc = {
            _id: newId(now.getTime()),
            userId,
            title: input.title!,
            description: input.description ?? "",
            tags: input.tags ?? [],
            pattern,
            target: fields.target ?? null,
            unit: fields.unit ?? null,
            timesPerPeriod: fields.timesPerPeriod ?? null,
            period: fields.period ?? null,
            limit: fields.limit ?? null,
            milestones:
              fields.milestones?.map((m) => ({ id: newId(), title: m.title, completedAt: null })) ?? null,
            startDate,
            endDate: input.endDate ?? null,
            templateId: input.templateId ?? null,
            status: "active",
            statusBeforeArchive: null,
            version: 1,
            createdAt: now,
            updatedAt: now,
          };
          await goalStore.insert(goal);
          goalsCreated.inc({ pattern });
          await announce(goal, settings);
          ctx.meta.$statusCode = 201;
          ctx.meta.$location = `/api/v1/goals/${goal._id}`;
          return viewAfterWrite(ctx, goal, settings);
        },
      },

      list: {
        params: actionParamsSchema(goalRoutes.list),
        async handler(ctx: RequestContext<ListParams>) {
          const userId = userIdOf(ctx);
          const { status, pattern, tag, limit, cursor } = ctx.params;
          const filter: Record<string, unknown> = { userId };
          filter.status = status ?? { $in: ["active", "completed"] };
          if (pattern) filter.pattern = pattern;
          if (tag) filter.tags = tag;
          if (cursor) filter._id = { $lt: idFromCursor(cursor) };
          const page = await goalStore.find(filter, { sort: { _id: -1 }, limit: limit + 1 });
          const items = page.slice(0, limit);
          const settings = await userSettings(ctx, userId);
          const derived = await derivedFor(ctx, items, settings);
          return {
            items: items.map((goal) =>
              toGoalView(goal, derived.get(goal._id) ?? { progress: null, streak: null, strength: null }),
            ),
            nextCursor: page.length > limit ? cursorOf(items[items.length - 1]!._id) : null,
          };
        },
      },

      get: {
        params: actionParamsSchema(goalRoutes.get),
        async handler(ctx: RequestContext<{ id: string }>) {
          return viewOne(ctx, await owned(ctx.params.id, userIdOf(ctx)));
        },
      },

      update: {
        params: actionParamsSchema(goalRoutes.update),
        async handler(ctx: RequestContext<GoalInput & { id: string; version?: number }>) {
          const userId = userIdOf(ctx);
          const { id, version, ...patch } = ctx.params;
          const goal = await owned(id, userId);
          const expected = version ?? ctx.meta.ifMatch;
          if (expected !== undefined && expected !== goal.version) throw new AppError("VERSION_CONFLICT");
          if (goal.status === "archived") throw new AppError("GOAL_ARCHIVED");
          const current: PatternFields = {
            target: goal.target ?? undefined,
            unit: goal.unit ?? undefined,
            timesPerPeriod: goal.timesPerPeriod ?? undefined,
            period: goal.period ?? undefined,
            limit: goal.limit ?? undefined,
            milestones: goal.milestones ?? undefined,
            endDate: goal.endDate,
          };
          const { details, fields } = checkPatternFields(goal.pattern, { ...current, ...patch });
          const foreign = details.filter((d) => Object.hasOwn(patch, d.path.slice(1)));
          if (foreign.length > 0 || details.length > 0) throw invalidPattern(details);
          const startDate = patch.startDate ?? goal.startDate;
          const endDate = patch.endDate !== undefined ? patch.endDate : goal.endDate;
          assertDateOrder(startDate, endDate);
          const changes: Partial<GoalDoc> = {
            title: patch.title ?? goal.title,
            description: patch.description ?? goal.description,
            tags: patch.tags ?? goal.tags,
            target: fields.target ?? null,
            unit: fields.unit ?? null,
            timesPerPeriod: fields.timesPerPeriod ?? null,
            period: fields.period ?? null,
            limit: fields.limit ?? null,
            startDate,
            endDate: endDate ?? null,
          };
          if (patch.milestones) {
            const byId = new Map((goal.milestones ?? []).map((m) => [m.id, m]));
            changes.milestones = patch.milestones.map((m) => ({
              id: m.id && byId.has(m.id) ? m.id : newId(),
              title: m.title,
              completedAt: (m.id && byId.get(m.id)?.completedAt) || null,
            }));
          }
          // Raising a completed goal's bar reopens it; the streak service closes it again if still reached.
          const reopens =
            goal.status === "completed" &&
            ((changes.target ?? 0) > (goal.target ?? 0) ||
              (changes.milestones != null && changes.milestones.some((m) => m.completedAt === null)));
          if (reopens) changes.status = "active";
          const updated = await goalStore.findOneAndUpdate(
            { _id: goal._id, version: goal.version },
            { $set: { ...changes, updatedAt: new Date() }, $inc: { version: 1 } },
          );
          if (!updated) throw new AppError("VERSION_CONFLICT");
          const settings = await userSettings(ctx, userId);
          await tellStreak(ctx, "streak.rulesChanged", {
            goal: stateOf(updated, settings.weekStart),
            today: todayOf(settings),
          });
          await announce(updated, settings);
          return viewAfterWrite(ctx, (await goalStore.findOne({ _id: goal._id })) ?? updated, settings);
        },
      },

      remove: {
        params: actionParamsSchema(goalRoutes.remove),
        async handler(ctx: RequestContext<{ id: string }>) {
          const userId = userIdOf(ctx);
          const goal = await owned(ctx.params.id, userId);
          await goalStore.deleteOne({ _id: goal._id });
          await skipStore.deleteMany({ goalId: goal._id });
          await bus.publish("goal.deleted", { goalId: goal._id, userId }, goal._id);
          ctx.meta.$statusCode = 204;
          return null;
        },
      },

      archive: {
        params: actionParamsSchema(goalRoutes.archive),
        async handler(ctx: RequestContext<{ id: string }>) {
          const goal = await owned(ctx.params.id, userIdOf(ctx));
          const archived =
            goal.status === "archived"
              ? goal
              : await setStatus(goal, { status: "archived", statusBeforeArchive: goal.status });
          const settings = await userSettings(ctx, goal.userId);
          if (archived !== goal) await announce(archived, settings);
          return viewAfterWrite(ctx, archived, settings);
        },
      },

      unarchive: {
        params: actionParamsSchema(goalRoutes.unarchive),
        async handler(ctx: RequestContext<{ id: string }>) {
          const goal = await owned(ctx.params.id, userIdOf(ctx));
          if (goal.status !== "archived") return viewOne(ctx, goal);
          await assertQuota(goal.userId);
          const restored = await setStatus(goal, {
            status: goal.statusBeforeArchive ?? "active",
            statusBeforeArchive: null,
          });
          const settings = await userSettings(ctx, goal.userId);
          await announce(restored, settings);
          return viewAfterWrite(ctx, restored, settings);
        },
      },

      archiveMany: {
        params: actionParamsSchema(goalRoutes.archiveMany),
        async handler(ctx: RequestContext<{ ids: string[] }>) {
          const userId = userIdOf(ctx);
          const targets = await goalStore.find({
            userId,
            _id: { $in: ctx.params.ids },
            status: { $in: ["active", "completed"] },
          });
          let archived = 0;
          const settings = targets.length > 0 ? await userSettings(ctx, userId) : null;
          for (const goal of targets) {
            const updated = await goalStore.findOneAndUpdate(
              { _id: goal._id, version: goal.version },
              {
                $set: { status: "archived", statusBeforeArchive: goal.status, updatedAt: new Date() },
                $inc: { version: 1 },
              },
            );
            if (updated) {
              archived += 1;
              await announce(updated, settings!);
            }
          }
          return { archived };
        },
      },

      progress: {
        params: actionParamsSchema(goalHistoryRoutes.progress),
        async handler(ctx: RequestContext<{ id: string; from?: LocalDate; to?: LocalDate }>) {
          const goal = await owned(ctx.params.id, userIdOf(ctx));
          const settings = await userSettings(ctx, goal.userId);
          const today = todayOf(settings);
          const to = ctx.params.to ?? today;
          const from = ctx.params.from ?? addDays(to, -30);
          if (compareDates(from, to) > 0 || daysBetween(from, to) >= MAX_SERIES_DAYS) {
            throw new AppError(
              "INVALID_DATE_RANGE",
              `from must not be after to, and the range at most ${MAX_SERIES_DAYS} days`,
            );
          }
          return ctx.call<{ goalId: string; current: Progress | null; series: unknown[] }, object>(
            "streak.series",
            {
              goal: stateOf(goal, settings.weekStart),
              from,
              to,
              today,
            },
          );
        },
      },

      addSkips: {
        params: actionParamsSchema(goalHistoryRoutes.addSkips),
        async handler(
          ctx: RequestContext<{ id: string; date?: LocalDate; from?: LocalDate; to?: LocalDate }>,
        ) {
          const goal = await owned(ctx.params.id, userIdOf(ctx));
          if (goal.status === "archived") throw new AppError("GOAL_ARCHIVED");
          const from = ctx.params.date ?? ctx.params.from!;
          const to = ctx.params.date ?? ctx.params.to!;
          if (compareDates(from, to) > 0 || daysBetween(from, to) >= MAX_SKIP_RANGE_DAYS) {
            throw new AppError(
              "INVALID_DATE_RANGE",
              `A skip range runs forward and spans at most ${MAX_SKIP_RANGE_DAYS} days`,
            );
          }
          if (
            compareDates(from, goal.startDate) < 0 ||
            (goal.endDate && compareDates(to, goal.endDate) > 0)
          ) {
            throw new AppError("INVALID_DATE_RANGE", "Skipped dates must lie within the goal's dates");
          }
          const dates: LocalDate[] = [];
          for (let date = from; compareDates(date, to) <= 0; date = addDays(date, 1)) dates.push(date);
          for (const date of dates) {
            await skipStore.updateOne(
              { _id: `${goal._id}:${date}` },
              { $set: { goalId: goal._id, userId: goal.userId, date } },
              { upsert: true },
            );
          }
          const settings = await userSettings(ctx, goal.userId);
          const change = {
            goalId: goal._id,
            userId: goal.userId,
            dates,
            skipped: true,
            goal: stateOf(goal, settings.weekStart),
            today: todayOf(settings),
          };
          await tellStreak(ctx, "streak.applySkips", change);
          await bus.publish("goal.skips.changed", change);
          return {
            skips: (await skipStore.find({ goalId: goal._id }, { sort: { date: 1 } })).map((s) => s.date),
          };
        },
      },

      listSkips: {
        params: actionParamsSchema(goalHistoryRoutes.listSkips),
        async handler(ctx: RequestContext<{ id: string }>) {
          const goal = await owned(ctx.params.id, userIdOf(ctx));
          return {
            skips: (await skipStore.find({ goalId: goal._id }, { sort: { date: 1 } })).map((s) => s.date),
          };
        },
      },

      removeSkip: {
        params: actionParamsSchema(goalHistoryRoutes.removeSkip),
        async handler(ctx: RequestContext<{ id: string; date: LocalDate }>) {
          const goal = await owned(ctx.params.id, userIdOf(ctx));
          const removed = await skipStore.deleteOne({ _id: `${goal._id}:${ctx.params.date}` });
          if (removed === 0) throw new AppError("NOT_FOUND", "That date is not skipped");
          const settings = await userSettings(ctx, goal.userId);
          const change = {
            goalId: goal._id,
            userId: goal.userId,
            dates: [ctx.params.date],
            skipped: false,
            goal: stateOf(goal, settings.weekStart),
            today: todayOf(settings),
          };
          await tellStreak(ctx, "streak.applySkips", change);
          await bus.publish("goal.skips.changed", change);
          ctx.meta.$statusCode = 204;
          return null;
        },
      },

      templates: {
        params: actionParamsSchema(templateRoutes.list),
        handler() {
          return { items: TEMPLATES };
        },
      },

      recommendations: {
        params: actionParamsSchema(insightRoutes.recommendations),
        async handler(ctx: RequestContext) {
          const userId = userIdOf(ctx);
          const list = await goalStore.find({ userId }, { sort: { _id: -1 }, limit: 100 });
          const settings = await userSettings(ctx, userId);
          const live = list.filter((goal) => goal.status !== "archived");
          const derived = await derivedFor(ctx, live, settings);
          return recommend(
            list.map((goal) => ({
              id: goal._id,
              title: goal.title,
              pattern: goal.pattern,
              status: goal.status,
              startDate: goal.startDate,
              templateId: goal.templateId,
              tags: goal.tags,
              strength: derived.get(goal._id)?.strength ?? null,
              lastMetDate: derived.get(goal._id)?.streak?.lastMetDate ?? null,
              currentStreak: derived.get(goal._id)?.streak?.current ?? 0,
            })),
            todayOf(settings),
          );
        },
      },

      export: {
        params: actionParamsSchema(insightRoutes.export),
        async handler(ctx: RequestContext<{ format: "json" | "csv" }>) {
          const userId = userIdOf(ctx);
          const list = await goalStore.find({ userId }, { sort: { _id: 1 } });
          const read = (afterId: string | null) =>
            ctx.call<ExportedActivity[], object>("activity.exportPage", { userId, afterId, limit: 500 });
          if (ctx.params.format === "csv") {
            ctx.meta.$responseType = "text/csv; charset=utf-8";
            ctx.meta.$responseHeaders = {
              "Content-Disposition": 'attachment; filename="goal-tracker-export.csv"',
            };
            return csvExport(list, read);
          }
          ctx.meta.$responseType = "application/json; charset=utf-8";
          return jsonExport(list, read);
        },
      },

      /** Titles and states of some of a user's goals, for notifications and summaries. */
      summaries: {
        visibility: "public",
        params: {
          type: "object",
          additionalProperties: false,
          required: ["userId", "goalIds"],
          properties: {
            userId: { type: "string", maxLength: 64 },
            goalIds: { type: "array", maxItems: 500, items: { type: "string", maxLength: 64 } },
          },
        },
        async handler(ctx: RequestContext<{ userId: string; goalIds: string[] }>) {
          const found = await goalStore.find({ userId: ctx.params.userId, _id: { $in: ctx.params.goalIds } });
          return found.map((goal) => ({
            id: goal._id,
            title: goal.title,
            pattern: goal.pattern,
            status: goal.status,
          }));
        },
      },

      /** A user's live goals as the streak service needs them (for day outcomes and reminders). */
      statesOf: {
        visibility: "public",
        params: {
          type: "object",
          additionalProperties: false,
          required: ["userId", "weekStart"],
          properties: {
            userId: { type: "string", maxLength: 64 },
            weekStart: { enum: ["monday", "sunday"] },
          },
        },
        async handler(ctx: RequestContext<{ userId: string; weekStart: "monday" | "sunday" }>) {
          const live = await goalStore.find({
            userId: ctx.params.userId,
            status: { $in: ["active", "completed"] },
          });
          return live.map((goal) => stateOf(goal, ctx.params.weekStart));
        },
      },

      /** For the activity service: the goal a user logs to, with its state for the streak service. */
      forLogging: {
        visibility: "public",
        params: {
          type: "object",
          additionalProperties: false,
          required: ["goalId", "userId", "weekStart"],
          properties: {
            goalId: { type: "string", maxLength: 64 },
            userId: { type: "string", maxLength: 64 },
            weekStart: { enum: ["monday", "sunday"] },
          },
        },
        async handler(
          ctx: RequestContext<{ goalId: string; userId: string; weekStart: "monday" | "sunday" }>,
        ) {
          const goal = await goalStore.findOne({ _id: ctx.params.goalId, userId: ctx.params.userId });
          if (!goal) return null;
          return {
            state: stateOf(goal, ctx.params.weekStart),
            milestoneIds: (goal.milestones ?? []).map((m) => m.id),
          };
        },
      },

      /** From the streak service: a target or milestone goal reached (or no longer reached) its end. */
      syncCompletion: {
        visibility: "public",
        params: {
          type: "object",
          additionalProperties: false,
          required: ["goalId", "completed"],
          properties: { goalId: { type: "string", maxLength: 64 }, completed: { type: "boolean" } },
        },
        async handler(ctx: RequestContext<{ goalId: string; completed: boolean }>) {
          const goal = await goalStore.findOne({ _id: ctx.params.goalId });
          if (!goal || goal.status === "archived") return { changed: false };
          const wanted: GoalStatus = ctx.params.completed ? "completed" : "active";
          if (goal.status === wanted) return { changed: false };
          await goalStore.updateOne(
            { _id: goal._id, version: goal.version },
            { $set: { status: wanted, updatedAt: new Date() }, $inc: { version: 1 } },
          );
          return { changed: true };
        },
      },

      /** From the activity service: a milestone activity was logged (done) or removed (undone). */
      markMilestone: {
        visibility: "public",
        params: {
          type: "object",
          additionalProperties: false,
          required: ["goalId", "milestoneId", "completedAt"],
          properties: {
            goalId: { type: "string", maxLength: 64 },
            milestoneId: { type: "string", maxLength: 64 },
            completedAt: { anyOf: [{ type: "string", format: "date-time" }, { type: "null" }] },
          },
        },
        async handler(
          ctx: RequestContext<{ goalId: string; milestoneId: string; completedAt: string | null }>,
        ) {
          const goal = await goalStore.findOne({ _id: ctx.params.goalId });
          if (!goal?.milestones) return null;
          const milestones = goal.milestones.map((m) =>
            m.id === ctx.params.milestoneId
              ? { ...m, completedAt: ctx.params.completedAt ? new Date(ctx.params.completedAt) : null }
              : m,
          );
          const allDone = milestones.every((m) => m.completedAt !== null);
          const status: GoalStatus =
            goal.status === "archived" ? "archived" : allDone ? "completed" : "active";
          await goalStore.updateOne(
            { _id: goal._id },
            { $set: { milestones, status, updatedAt: new Date() }, $inc: { version: 1 } },
          );
          return { status };
        },
      },
    },

    async started() {
      goalStore = await storage.open(goals);
      skipStore = await storage.open(skips);
      await bus.subscribe("user.deleted", "goals", async ({ userId }) => {
        await skipStore.deleteMany({ userId });
        await goalStore.deleteMany({ userId });
      });
    },
  };
}
