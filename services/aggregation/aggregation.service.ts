import type { ServiceBroker, ServiceSchema } from "moleculer";
import { actionParamsSchema } from "../../shared/api/route.ts";
import { adminRoutes, JOB_NAMES, statsRoutes } from "../../shared/api/stats.ts";
import type { ActivityChange, GoalState } from "../../shared/bus/channels.ts";
import type { RequestContext } from "../../shared/context.ts";
import { type Collection, DuplicateKeyError } from "../../shared/db/index.ts";
import {
  addDays,
  compareDates,
  daysBetween,
  localDateOf,
  maxDate,
  periodContaining,
} from "../../shared/domain/calendar.ts";
import type { LocalDate } from "../../shared/domain/goal-types.ts";
import type { WeekStart } from "../../shared/domain/profile.ts";
import { AppError } from "../../shared/errors.ts";
import { KeyedLock } from "../../shared/keyed-lock.ts";
import { healthMixin } from "../../shared/mixins.ts";
import type { ServiceDeps } from "../../shared/runtime-types.ts";
import { allUsers, type UserRow, type UserSettings, userSettings } from "../../shared/user-settings.ts";
import {
  type DailyStatDoc,
  dailyStats,
  type DayFigures,
  jobRuns,
  statActivities,
  type StatActivityDoc,
  userCloses,
  type UserCloseDoc,
  weeklyStats,
  type WeeklyStatDoc,
} from "./model.ts";
import { daySlot, hourSlot, type JobDefinition, quarterHourSlot, Scheduler } from "./scheduler.ts";

const MAX_DAILY_RANGE = 92;
const MAX_WEEKLY_RANGE_DAYS = 53 * 7;
const DAILY_RETENTION_DAYS = 90;
/** How far back close-days catches up for a user (after an outage, say). */
const CLOSE_CATCH_UP_DAYS = 7;

function withRate(figures: DayFigures) {
  return { ...figures, completionRate: figures.goalsDue === 0 ? null : figures.goalsMet / figures.goalsDue };
}

function sumFigures(days: Iterable<DayFigures>): DayFigures {
  const sum: DayFigures = { activities: 0, quantity: 0, goalsDue: 0, goalsMet: 0 };
  for (const day of days) {
    sum.activities += day.activities;
    sum.quantity += day.quantity;
    sum.goalsDue += day.goalsDue;
    sum.goalsMet += day.goalsMet;
  }
  return sum;
}

function datesBetween(from: LocalDate, to: LocalDate): LocalDate[] {
  const dates: LocalDate[] = [];
  for (let date = from; compareDates(date, to) <= 0; date = addDays(date, 1)) dates.push(date);
  return dates;
}

function rangeError(message: string): AppError {
  return new AppError("INVALID_DATE_RANGE", message);
}

/**
 * Per-user daily and weekly rollups, closing days as each user's local day ends, and the scheduler
 * of every periodic job. Owns `stat_activities`, `daily_stats`, `weekly_stats`, `user_closes`, `job_runs`.
 */
export default function aggregationService(deps: ServiceDeps): ServiceSchema {
  const { storage, bus } = deps;
  const lock = new KeyedLock();
  let broker: ServiceBroker;
  let activities: Collection<StatActivityDoc>;
  let daily: Collection<DailyStatDoc>;
  let weekly: Collection<WeeklyStatDoc>;
  let closes: Collection<UserCloseDoc>;
  let scheduler: Scheduler;

  const todayOf = (user: Pick<UserRow, "timezone" | "dayStartHour">, now = new Date()) =>
    localDateOf(now, user.timezone, user.dayStartHour);

  /** Figures computed from the source data: activity totals here, goal outcomes from the streak service. */
  async function liveFigures(
    userId: string,
    weekStart: WeekStart,
    dates: LocalDate[],
    today: LocalDate,
  ): Promise<Map<LocalDate, DayFigures>> {
    const figures = new Map<LocalDate, DayFigures>(
      dates.map((date) => [date, { activities: 0, quantity: 0, goalsDue: 0, goalsMet: 0 }]),
    );
    if (dates.length === 0) return figures;
    const sorted = [...dates].sort(compareDates);
    const counted = await activities.find({
      userId,
      deleted: false,
      date: { $gte: sorted[0], $lte: sorted[sorted.length - 1] },
    });
    for (const activity of counted) {
      const day = figures.get(activity.date);
      if (!day) continue;
      day.activities += 1;
      day.quantity += activity.quantity;
    }
    const goals = await broker.call<GoalState[], object>("goals.statesOf", { userId, weekStart });
    if (goals.length > 0) {
      const outcomes = await broker.call<Record<LocalDate, { due: number; met: number }>, object>(
        "streak.dayOutcomes",
        {
          goals,
          dates,
          today,
        },
      );
      for (const [date, outcome] of Object.entries(outcomes)) {
        const day = figures.get(date);
        if (day) Object.assign(day, { goalsDue: outcome.due, goalsMet: outcome.met });
      }
    }
    return figures;
  }

  /** Closed days from storage, the rest computed live. */
  async function dayFigures(userId: string, weekStart: WeekStart, dates: LocalDate[], today: LocalDate) {
    const closed = await daily.find({ userId, date: { $in: dates } });
    const byDate = new Map<LocalDate, DayFigures>(
      closed.map((doc) => [
        doc.date,
        {
          activities: doc.activities,
          quantity: doc.quantity,
          goalsDue: doc.goalsDue,
          goalsMet: doc.goalsMet,
        },
      ]),
    );
    const missing = dates.filter((date) => !byDate.has(date));
    for (const [date, figures] of await liveFigures(userId, weekStart, missing, today))
      byDate.set(date, figures);
    return byDate;
  }

  async function closeDays(
    user: Pick<UserRow, "id" | "weekStart">,
    dates: LocalDate[],
    today: LocalDate,
  ): Promise<void> {
    if (dates.length === 0) return;
    const figures = await liveFigures(user.id, user.weekStart, dates, today);
    for (const [date, day] of figures) {
      await daily.updateOne(
        { _id: `${user.id}:${date}` },
        { $set: { userId: user.id, date, ...day, closedAt: new Date() } },
        { upsert: true },
      );
    }
    const weeks = new Set(dates.map((date) => periodContaining(date, "week", user.weekStart).startDate));
    for (const weekStartDate of weeks) await rollUpWeek(user, weekStartDate, today);
  }

  async function rollUpWeek(
    user: Pick<UserRow, "id" | "weekStart">,
    weekStartDate: LocalDate,
    today: LocalDate,
  ): Promise<void> {
    const days = datesBetween(weekStartDate, addDays(weekStartDate, 6)).filter(
      (date) => compareDates(date, today) < 0,
    );
    const figures = await dayFigures(user.id, user.weekStart, days, today);
    const sum = sumFigures(figures.values());
    await weekly.updateOne(
      { _id: `${user.id}:${weekStartDate}` },
      { $set: { userId: user.id, weekStartDate, ...sum, updatedAt: new Date() } },
      { upsert: true },
    );
  }

  /**
   * Counts one activity version once, in any order; a change to a closed day closes it again. The record
   * is written with the dates it changes as `pendingDates`, cleared once closed days are refreshed: a
   * failure in between leaves them, and the redelivered message refreshes them instead of returning early.
   */
  function applyActivity(change: ActivityChange): Promise<void> {
    return lock.run(change.userId, async () => {
      const weekStart = change.goal.rules.weekStart;
      const previous = await activities.findOne({ _id: change.activityId });
      if (previous && previous.version > change.version) return;
      if (previous && previous.version === change.version) {
        if (previous.pendingDates?.length) {
          await refreshClosed(change.userId, weekStart, previous.pendingDates, change.today);
          await activities.updateOne(
            { _id: change.activityId, version: change.version },
            { $unset: { pendingDates: true } },
          );
        }
        return;
      }
      const dates = [
        ...new Set(
          [...(previous?.pendingDates ?? []), previous?.date, change.localDate].filter(
            (d): d is LocalDate => d !== undefined,
          ),
        ),
      ];
      const next = {
        userId: change.userId,
        goalId: change.goalId,
        date: change.localDate,
        quantity: change.quantity,
        version: change.version,
        deleted: change.deleted,
        pendingDates: dates,
      };
      if (previous) {
        if (
          (await activities.updateOne(
            { _id: change.activityId, version: previous.version },
            { $set: next },
          )) === 0
        )
          return;
      } else {
        try {
          await activities.insert({ _id: change.activityId, ...next });
        } catch (error) {
          if (error instanceof DuplicateKeyError) return;
          throw error;
        }
      }
      await refreshClosed(change.userId, weekStart, dates, change.today);
      await activities.updateOne(
        { _id: change.activityId, version: change.version },
        { $unset: { pendingDates: true } },
      );
    });
  }

  async function refreshClosed(
    userId: string,
    weekStart: WeekStart,
    dates: LocalDate[],
    today: LocalDate,
  ): Promise<void> {
    const closed = (await daily.find({ userId, date: { $in: dates } })).map((doc) => doc.date);
    const user = { id: userId, weekStart };
    if (closed.length > 0) await closeDays(user, closed, today);
    for (const date of dates.filter((d) => !closed.includes(d))) {
      const weekStartDate = periodContaining(date, "week", weekStart).startDate;
      if (await weekly.findOne({ _id: `${userId}:${weekStartDate}` }))
        await rollUpWeek(user, weekStartDate, today);
    }
  }

  /** Jobs whose work belongs to the notification service: the scheduler only triggers them. */
  const notificationJob = (action: string) => async (now: Date) =>
    (
      await broker.call<{ processed: number }, { now: string }>(`notification.${action}`, {
        now: now.toISOString(),
      })
    ).processed;

  const jobs: JobDefinition[] = [
    {
      name: "close-days",
      schedule: "5 * * * *",
      slotOf: hourSlot,
      async run(now) {
        let closed = 0;
        for await (const user of allUsers(broker)) {
          const today = todayOf(user, now);
          const mark = await closes.findOne({ _id: user.id });
          const first = maxDate(
            mark ? addDays(mark.lastClosedDate, 1) : addDays(today, -1),
            addDays(today, -CLOSE_CATCH_UP_DAYS),
          );
          const dates = compareDates(first, today) < 0 ? datesBetween(first, addDays(today, -1)) : [];
          if (dates.length === 0) continue;
          await lock.run(user.id, () => closeDays(user, dates, today));
          await closes.updateOne(
            { _id: user.id },
            { $set: { lastClosedDate: dates[dates.length - 1]! } },
            { upsert: true },
          );
          closed += dates.length;
        }
        return closed;
      },
    },
    {
      name: "verify-streaks",
      schedule: "15 3 * * *",
      slotOf: daySlot,
      async run(now) {
        let checked = 0;
        for await (const user of allUsers(broker)) {
          const goals = await broker.call<GoalState[], object>("goals.statesOf", {
            userId: user.id,
            weekStart: user.weekStart,
          });
          if (goals.length === 0) continue;
          const result = await broker.call<{ checked: number }, object>("streak.verify", {
            goals,
            today: todayOf(user, now),
          });
          checked += result.checked;
        }
        return checked;
      },
    },
    {
      name: "retention",
      schedule: "30 4 * * *",
      slotOf: daySlot,
      run: (now) => daily.deleteMany({ date: { $lt: addDays(daySlot(now), -DAILY_RETENTION_DAYS) } }),
    },
    {
      name: "at-risk-reminders",
      schedule: "*/15 * * * *",
      slotOf: quarterHourSlot,
      run: notificationJob("atRiskReminders"),
    },
    {
      name: "weekly-summaries",
      schedule: "0 * * * *",
      slotOf: hourSlot,
      run: notificationJob("weeklySummaries"),
    },
  ];

  function parseRange(
    from: LocalDate | undefined,
    to: LocalDate | undefined,
    today: LocalDate,
    defaultDays: number,
    maxDays: number,
  ) {
    const end = to ?? today;
    const start = from ?? addDays(end, -(defaultDays - 1));
    if (compareDates(start, end) > 0) throw rangeError("from must not be after to");
    if (daysBetween(start, end) >= maxDays) throw rangeError(`The range spans at most ${maxDays} days`);
    return { start, end };
  }

  const userIdOf = (ctx: RequestContext<unknown>): string => {
    const id = ctx.meta.user?.id;
    if (!id) throw new AppError("UNAUTHORIZED");
    return id;
  };

  return {
    name: "aggregation",
    mixins: [healthMixin({ database: () => storage.ping(), bus: () => bus.ping() })],

    actions: {
      daily: {
        params: actionParamsSchema(statsRoutes.daily),
        async handler(ctx: RequestContext<{ from?: LocalDate; to?: LocalDate }>) {
          const userId = userIdOf(ctx);
          const settings: UserSettings = await userSettings(ctx, userId);
          const today = todayOf(settings);
          const { start, end } = parseRange(ctx.params.from, ctx.params.to, today, 7, MAX_DAILY_RANGE);
          const dates = datesBetween(start, end);
          const figures = await dayFigures(userId, settings.weekStart, dates, today);
          return dates.map((date) => ({ date, ...withRate(figures.get(date)!) }));
        },
      },

      weekly: {
        params: actionParamsSchema(statsRoutes.weekly),
        async handler(ctx: RequestContext<{ from?: LocalDate; to?: LocalDate }>) {
          const userId = userIdOf(ctx);
          const settings = await userSettings(ctx, userId);
          const today = todayOf(settings);
          const { start, end } = parseRange(ctx.params.from, ctx.params.to, today, 28, MAX_WEEKLY_RANGE_DAYS);
          const weeks: LocalDate[] = [];
          for (
            let week = periodContaining(start, "week", settings.weekStart).startDate;
            compareDates(week, end) <= 0;
            week = addDays(week, 7)
          ) {
            weeks.push(week);
          }
          const stored = new Map(
            (await weekly.find({ userId, weekStartDate: { $in: weeks } })).map((doc) => [
              doc.weekStartDate,
              doc,
            ]),
          );
          const out = [];
          for (const weekStartDate of weeks) {
            const weekEnd = addDays(weekStartDate, 6);
            const keep = stored.get(weekStartDate);
            // A week long past keeps its rollup (its days are purged after 90 days); a recent one is summed live.
            if (keep && daysBetween(weekEnd, today) > DAILY_RETENTION_DAYS - 7) {
              out.push({ weekStartDate, ...withRate(sumFigures([keep])) });
              continue;
            }
            const days = datesBetween(weekStartDate, weekEnd).filter(
              (date) => compareDates(date, today) <= 0,
            );
            const figures = await dayFigures(userId, settings.weekStart, days, today);
            const sum = sumFigures(figures.values());
            out.push({ weekStartDate, ...withRate(sum) });
          }
          return out;
        },
      },

      /** The figures of one week, for the weekly summary notification. */
      weekFigures: {
        visibility: "public",
        params: {
          type: "object",
          additionalProperties: false,
          required: ["userId", "weekStartDate"],
          properties: {
            userId: { type: "string", maxLength: 64 },
            weekStartDate: { type: "string", format: "date" },
          },
        },
        async handler(ctx: RequestContext<{ userId: string; weekStartDate: LocalDate }>) {
          const settings = await userSettings(ctx, ctx.params.userId);
          const today = todayOf(settings);
          const days = datesBetween(ctx.params.weekStartDate, addDays(ctx.params.weekStartDate, 6)).filter(
            (date) => compareDates(date, today) <= 0,
          );
          const figures = await dayFigures(ctx.params.userId, settings.weekStart, days, today);
          const sum = sumFigures(figures.values());
          return { weekStartDate: ctx.params.weekStartDate, ...withRate(sum) };
        },
      },

      runJob: {
        params: actionParamsSchema(adminRoutes.runJob),
        async handler(ctx: RequestContext<{ name: string }>) {
          if (
            !(JOB_NAMES as readonly string[]).includes(ctx.params.name) ||
            !scheduler.has(ctx.params.name)
          ) {
            throw new AppError("NOT_FOUND", `No job named ${ctx.params.name}; jobs: ${JOB_NAMES.join(", ")}`);
          }
          try {
            return await scheduler.runNow(ctx.params.name);
          } catch (error) {
            this.logger.warn(`job ${ctx.params.name} failed`, String(error));
            throw new AppError(
              "SERVICE_UNAVAILABLE",
              `The job ${ctx.params.name} failed: a service it needs did not answer`,
            );
          }
        },
      },

      /** The scheduled path, for tests and operators: runs only if this slot has not run yet. */
      runScheduled: {
        visibility: "public",
        params: {
          type: "object",
          additionalProperties: false,
          required: ["name", "now"],
          properties: { name: { enum: [...JOB_NAMES] }, now: { type: "string", format: "date-time" } },
        },
        async handler(ctx: RequestContext<{ name: string; now: string }>) {
          return scheduler.runScheduled(ctx.params.name, new Date(ctx.params.now));
        },
      },
    },

    async started() {
      broker = this.broker;
      activities = await storage.open(statActivities);
      daily = await storage.open(dailyStats);
      weekly = await storage.open(weeklyStats);
      closes = await storage.open(userCloses);
      scheduler = new Scheduler(await storage.open(jobRuns), jobs, (job, error) =>
        this.logger.warn(`scheduled job ${job} failed`, String(error)),
      );
      await bus.subscribe("activity.changed", "aggregation", applyActivity);
      await bus.subscribe("goal.deleted", "aggregation", async ({ goalId, userId }) => {
        await lock.run(userId, async () => {
          const gone = await activities.find({ goalId, deleted: false });
          await activities.updateMany({ goalId }, { $set: { deleted: true } });
          const dates = [...new Set(gone.map((a) => a.date))];
          const weekStart =
            (await userSettings(this.broker as never, userId).catch(() => null))?.weekStart ?? "monday";
          await refreshClosed(userId, weekStart, dates, localDateOf(new Date(), "UTC", 0));
        });
      });
      await bus.subscribe("user.deleted", "aggregation", async ({ userId }) => {
        await activities.deleteMany({ userId });
        await daily.deleteMany({ userId });
        await weekly.deleteMany({ userId });
        await closes.deleteOne({ _id: userId });
      });
      await scheduler.start();
    },

    async stopped() {
      await scheduler?.stop();
    },
  };
}
