import type { ServiceBroker, ServiceSchema } from "moleculer";
import { activityRoutes } from "../../shared/api/activities.ts";
import { actionParamsSchema } from "../../shared/api/route.ts";
import type { ActivityChange, GoalState } from "../../shared/bus/channels.ts";
import type { RequestContext } from "../../shared/context.ts";
import { type Collection, DuplicateKeyError } from "../../shared/db/index.ts";
import { compareDates, localDateOf } from "../../shared/domain/calendar.ts";
import type { LocalDate } from "../../shared/domain/goal-types.ts";
import { AppError, ERROR_CODES, isErrorCode } from "../../shared/errors.ts";
import { newId } from "../../shared/ids.ts";
import { healthMixin } from "../../shared/mixins.ts";
import { activitiesLogged } from "../../shared/ops/metrics.ts";
import type { ServiceDeps } from "../../shared/runtime-types.ts";
import { type UserSettings, userSettings } from "../../shared/user-settings.ts";
import { type Claim, IdempotencyStore, requestHash } from "./idempotency.ts";
import { activities, type ActivityDoc, idempotencyKeys } from "./model.ts";

interface LogInput {
  quantity: number;
  note?: string;
  occurredAt?: string;
  milestoneId?: string;
}

interface GoalForLogging {
  state: GoalState;
  milestoneIds: string[];
}

/** Future logs are refused beyond this allowance for clock skew. */
const FUTURE_ALLOWANCE_MS = 5 * 60 * 1000;
const OUTBOX_SWEEP_MS = 10_000;
const OUTBOX_GRACE_MS = 5_000;

export function toActivityView(activity: ActivityDoc) {
  return {
    id: activity._id,
    goalId: activity.goalId,
    quantity: activity.quantity,
    note: activity.note,
    occurredAt: activity.occurredAt.toISOString(),
    localDate: activity.localDate,
    milestoneId: activity.milestoneId,
    createdAt: activity.createdAt.toISOString(),
  };
}

function dateRangeError(message: string, path: string): AppError {
  return new AppError("INVALID_DATE_RANGE", message, { details: [{ path, message }] });
}

/** Logging, bulk logging, edits and deletes of activities. Owns `activities` and `idempotency_keys`. */
export default function activityService(deps: ServiceDeps): ServiceSchema {
  const { storage, bus } = deps;
  let activityStore: Collection<ActivityDoc>;
  let idempotency: IdempotencyStore;
  let sweeper: NodeJS.Timeout | undefined;
  let broker: ServiceBroker;

  const userIdOf = (ctx: RequestContext<unknown>): string => {
    const id = ctx.meta.user?.id;
    if (!id) throw new AppError("UNAUTHORIZED");
    return id;
  };

  async function goalFor(
    ctx: RequestContext<unknown>,
    goalId: string,
    userId: string,
    settings: UserSettings,
  ): Promise<GoalForLogging> {
    const goal = await ctx.call<GoalForLogging | null, object>("goals.forLogging", {
      goalId,
      userId,
      weekStart: settings.weekStart,
    });
    if (!goal) throw new AppError("GOAL_NOT_FOUND");
    return goal;
  }

  function assertWritable(goal: GoalState): void {
    if (goal.status === "archived") throw new AppError("GOAL_ARCHIVED");
  }

  /** The local date of an instant for this user and goal, with the contract's date rules. */
  function stampDate(occurredAt: Date, goal: GoalState, settings: UserSettings): LocalDate {
    if (occurredAt.getTime() > Date.now() + FUTURE_ALLOWANCE_MS) {
      throw dateRangeError("An activity cannot be in the future", "/occurredAt");
    }
    const localDate = localDateOf(occurredAt, settings.timezone, settings.dayStartHour);
    if (compareDates(localDate, goal.rules.startDate) < 0) {
      throw dateRangeError("An activity cannot be before its goal's start date", "/occurredAt");
    }
    if (goal.rules.endDate && compareDates(localDate, goal.rules.endDate) > 0) {
      throw dateRangeError("An activity cannot be after its goal's end date", "/occurredAt");
    }
    return localDate;
  }

  function changeOf(activity: ActivityDoc, goal: GoalState, settings: UserSettings): ActivityChange {
    return {
      activityId: activity._id,
      goalId: activity.goalId,
      userId: activity.userId,
      version: activity.version,
      localDate: activity.localDate,
      quantity: activity.quantity,
      deleted: activity.deleted,
      occurredAt: activity.occurredAt.toISOString(),
      goal,
      today: localDateOf(new Date(), settings.timezone, settings.dayStartHour),
    };
  }

  /**
   * Brings the streak up to date first, so that a read that follows sees it and so that consumers
   * of the message (the stats) find the streak already changed; then publishes the change durably.
   * The outbox marker is cleared only once the publish succeeded: a crash in between leaves it set,
   * and the sweeper publishes again (consumers keep the highest version, so nothing counts twice).
   */
  async function propagate(
    ctx: RequestContext<unknown>,
    activity: ActivityDoc,
    change: ActivityChange,
  ): Promise<void> {
    try {
      await ctx.call("streak.applyActivity", change);
    } catch (error) {
      // The channel message brings the streak up to date when the streak service is back.
      ctx.service?.logger.warn("streak update deferred to the channel", String(error));
    }
    await bus.publish("activity.changed", change, `${activity._id}:${activity.version}`);
    await activityStore.updateOne(
      { _id: activity._id, version: activity.version },
      { $set: { unpublished: false } },
    );
    if (activity.deleted) await activityStore.deleteOne({ _id: activity._id, version: activity.version });
  }

  /**
   * Validates, stores and propagates one log. `activityId` is the id an Idempotency-Key fixed for it: when
   * an earlier request with the key stored it and then failed or died, that activity is finished and
   * answered instead (without validating again: the goal may have been completed by this very activity).
   */
  async function logOne(
    ctx: RequestContext<unknown>,
    userId: string,
    settings: UserSettings,
    goalId: string,
    input: LogInput,
    activityId?: string,
  ) {
    const earlier = activityId ? await activityStore.findOne({ _id: activityId, userId }) : null;
    if (earlier) return finishLog(ctx, earlier, settings);
    const goal = await goalFor(ctx, goalId, userId, settings);
    assertWritable(goal.state);
    if (goal.state.status === "completed") throw new AppError("GOAL_ALREADY_COMPLETED");
    if (input.milestoneId !== undefined && !goal.milestoneIds.includes(input.milestoneId)) {
      throw new AppError("VALIDATION_ERROR", undefined, {
        details: [{ path: "/milestoneId", message: "is not a milestone of this goal" }],
      });
    }
    const occurredAt = input.occurredAt ? new Date(input.occurredAt) : new Date();
    const localDate = stampDate(occurredAt, goal.state, settings);
    const now = new Date();
    const activity: ActivityDoc = {
      _id: activityId ?? newId(now.getTime()),
      userId,
      goalId,
      quantity: input.quantity,
      note: input.note ?? null,
      occurredAt,
      localDate,
      milestoneId: input.milestoneId ?? null,
      createdAt: now,
      updatedAt: now,
      version: 1,
      deleted: false,
      unpublished: true,
    };
    try {
      await activityStore.insert(activity);
    } catch (error) {
      // A request with the same Idempotency-Key that took over a stale claim stored it first.
      const racing =
        error instanceof DuplicateKeyError
          ? await activityStore.findOne({ _id: activity._id, userId })
          : null;
      if (!racing) throw error;
      return finishLog(ctx, racing, settings, goal.state);
    }
    activitiesLogged.inc({ pattern: goal.state.rules.pattern });
    return finishLog(ctx, activity, settings, goal.state);
  }

  /** What follows the insert: the milestone mark, then the streak and the channel, until published once. */
  async function finishLog(
    ctx: RequestContext<unknown>,
    activity: ActivityDoc,
    settings: UserSettings,
    goalState?: GoalState,
  ) {
    if (activity.milestoneId) {
      await ctx.call("goals.markMilestone", {
        goalId: activity.goalId,
        milestoneId: activity.milestoneId,
        completedAt: activity.occurredAt.toISOString(),
      });
    }
    if (activity.unpublished) {
      try {
        const state = goalState ?? (await goalFor(ctx, activity.goalId, activity.userId, settings)).state;
        await propagate(ctx, activity, changeOf(activity, state, settings));
      } catch (error) {
        // The activity is stored and marked unpublished: the outbox sweep publishes it within seconds.
        // Answering an error would tell the client that nothing was stored, which is not true.
        ctx.service?.logger.warn("activity stored; its change is left to the outbox sweep", String(error));
      }
    }
    return toActivityView(activity);
  }

  async function ownedActivity(activityId: string, userId: string): Promise<ActivityDoc> {
    const activity = await activityStore.findOne({ _id: activityId, userId, deleted: false });
    if (!activity) throw new AppError("ACTIVITY_NOT_FOUND");
    return activity;
  }

  async function sweepOutbox(graceMs = OUTBOX_GRACE_MS): Promise<void> {
    const stale = await activityStore.find(
      { unpublished: true, updatedAt: { $lt: new Date(Date.now() - graceMs) } },
      { limit: 100 },
    );
    for (const activity of stale) {
      // The goal state travels with the change; a sweep has no request context, so it asks for it here.
      const settings = await broker
        .call<UserSettings, { userId: string }>("auth.settings", { userId: activity.userId })
        .catch(() => null);
      const goal = settings
        ? await broker.call<GoalForLogging | null, object>("goals.forLogging", {
            goalId: activity.goalId,
            userId: activity.userId,
            weekStart: settings.weekStart,
          })
        : null;
      if (!settings || !goal) {
        if (settings) await activityStore.deleteOne({ _id: activity._id }); // its goal is gone
        continue;
      }
      await bus.publish(
        "activity.changed",
        changeOf(activity, goal.state, settings),
        `${activity._id}:${activity.version}`,
      );
      await activityStore.updateOne(
        { _id: activity._id, version: activity.version },
        { $set: { unpublished: false } },
      );
      if (activity.deleted) await activityStore.deleteOne({ _id: activity._id, version: activity.version });
    }
  }

  return {
    name: "activity",
    mixins: [healthMixin({ database: () => storage.ping(), bus: () => bus.ping() })],

    actions: {
      log: {
        params: actionParamsSchema(activityRoutes.log),
        async handler(ctx: RequestContext<LogInput & { id: string }>) {
          const userId = userIdOf(ctx);
          const { id: goalId, ...input } = ctx.params;
          const run = async (claim?: Claim) => {
            const settings = await userSettings(ctx, userId);
            return {
              status: 201,
              body: await logOne(ctx, userId, settings, goalId, input, claim?.resourceId),
            };
          };
          const key = ctx.meta.idempotencyKey;
          const response = key
            ? await idempotency.run(userId, key, requestHash({ goalId, ...input }), run)
            : await run();
          ctx.meta.$statusCode = response.status;
          ctx.meta.$location = `/api/v1/goals/${goalId}/activities`;
          return response.body;
        },
      },

      list: {
        params: actionParamsSchema(activityRoutes.list),
        async handler(
          ctx: RequestContext<{
            id: string;
            from?: LocalDate;
            to?: LocalDate;
            limit: number;
            cursor?: string;
          }>,
        ) {
          const userId = userIdOf(ctx);
          const { id: goalId, from, to, limit, cursor } = ctx.params;
          const settings = await userSettings(ctx, userId);
          await goalFor(ctx, goalId, userId, settings);
          if (from && to && compareDates(from, to) > 0)
            throw dateRangeError("from must not be after to", "/from");
          const filter: Record<string, unknown> = { goalId, userId, deleted: false };
          const range: Record<string, string> = {};
          if (from) range.$gte = from;
          if (to) range.$lte = to;
          if (from || to) filter.localDate = range;
          if (cursor) filter._id = { $lt: Buffer.from(cursor, "base64url").toString() };
          const page = await activityStore.find(filter, { sort: { _id: -1 }, limit: limit + 1 });
          const items = page.slice(0, limit);
          return {
            items: items.map(toActivityView),
            nextCursor:
              page.length > limit ? Buffer.from(items[items.length - 1]!._id).toString("base64url") : null,
          };
        },
      },

      update: {
        params: actionParamsSchema(activityRoutes.update),
        async handler(
          ctx: RequestContext<{ id: string; quantity?: number; note?: string | null; occurredAt?: string }>,
        ) {
          const userId = userIdOf(ctx);
          const activity = await ownedActivity(ctx.params.id, userId);
          const settings = await userSettings(ctx, userId);
          const goal = await goalFor(ctx, activity.goalId, userId, settings);
          assertWritable(goal.state);
          const changes: Partial<ActivityDoc> = { updatedAt: new Date(), unpublished: true };
          if (ctx.params.quantity !== undefined) changes.quantity = ctx.params.quantity;
          if (ctx.params.note !== undefined) changes.note = ctx.params.note;
          if (ctx.params.occurredAt !== undefined) {
            changes.occurredAt = new Date(ctx.params.occurredAt);
            changes.localDate = stampDate(changes.occurredAt, goal.state, settings);
          }
          const updated = await activityStore.findOneAndUpdate(
            { _id: activity._id, version: activity.version },
            { $set: changes, $inc: { version: 1 } },
          );
          if (!updated)
            throw new AppError("VERSION_CONFLICT", "The activity changed meanwhile; read it again");
          await propagate(ctx, updated, changeOf(updated, goal.state, settings));
          return toActivityView(updated);
        },
      },

      remove: {
        params: actionParamsSchema(activityRoutes.remove),
        async handler(ctx: RequestContext<{ id: string }>) {
          const userId = userIdOf(ctx);
          const activity = await ownedActivity(ctx.params.id, userId);
          const settings = await userSettings(ctx, userId);
          const goal = await goalFor(ctx, activity.goalId, userId, settings);
          assertWritable(goal.state);
          const tombstone = await activityStore.findOneAndUpdate(
            { _id: activity._id, version: activity.version },
            { $set: { deleted: true, unpublished: true, updatedAt: new Date() }, $inc: { version: 1 } },
          );
          if (!tombstone) throw new AppError("ACTIVITY_NOT_FOUND");
          if (activity.milestoneId) {
            await ctx.call("goals.markMilestone", {
              goalId: activity.goalId,
              milestoneId: activity.milestoneId,
              completedAt: null,
            });
          }
          await propagate(ctx, tombstone, changeOf(tombstone, goal.state, settings));
          ctx.meta.$statusCode = 204;
          return null;
        },
      },

      /** Publishes what a crash left unpublished and drops expired idempotency keys; runs every 10 s. */
      sweep: {
        visibility: "public",
        params: {
          type: "object",
          additionalProperties: false,
          properties: { graceMs: { type: "integer", minimum: 0, default: OUTBOX_GRACE_MS } },
        },
        async handler(ctx: RequestContext<{ graceMs: number }>) {
          await sweepOutbox(ctx.params.graceMs);
          await idempotency.purgeExpired();
          return { ok: true };
        },
      },

      /** The source of truth for the nightly verification: every live activity of a goal. */
      goalActivities: {
        visibility: "public",
        params: {
          type: "object",
          additionalProperties: false,
          required: ["goalId"],
          properties: { goalId: { type: "string", maxLength: 64 } },
        },
        async handler(ctx: RequestContext<{ goalId: string }>) {
          const live = await activityStore.find({ goalId: ctx.params.goalId, deleted: false });
          return live.map((a) => ({
            id: a._id,
            version: a.version,
            localDate: a.localDate,
            quantity: a.quantity,
          }));
        },
      },

      /** For the export: a page of a user's activities, oldest first. */
      exportPage: {
        visibility: "public",
        params: {
          type: "object",
          additionalProperties: false,
          required: ["userId", "limit"],
          properties: {
            userId: { type: "string", maxLength: 64 },
            afterId: { anyOf: [{ type: "string", maxLength: 64 }, { type: "null" }] },
            limit: { type: "integer", minimum: 1, maximum: 1000 },
          },
        },
        async handler(ctx: RequestContext<{ userId: string; afterId?: string | null; limit: number }>) {
          const filter: Record<string, unknown> = { userId: ctx.params.userId, deleted: false };
          if (ctx.params.afterId) filter._id = { $gt: ctx.params.afterId };
          const page = await activityStore.find(filter, { sort: { _id: 1 }, limit: ctx.params.limit });
          return page.map(toActivityView);
        },
      },

      bulk: {
        params: actionParamsSchema(activityRoutes.bulk),
        async handler(ctx: RequestContext<{ items: (LogInput & { goalId: string; clientId?: string })[] }>) {
          const userId = userIdOf(ctx);
          const settings = await userSettings(ctx, userId);
          const results = [];
          for (const [index, item] of ctx.params.items.entries()) {
            const { goalId, clientId, ...input } = item;
            const base = clientId === undefined ? { index } : { index, clientId };
            try {
              const activity = await logOne(ctx, userId, settings, goalId, {
                ...input,
                quantity: input.quantity ?? 1,
              });
              results.push({ ...base, status: 201, activity });
            } catch (error) {
              const type = (error as { type?: unknown }).type;
              if (!isErrorCode(type) || ERROR_CODES[type].status >= 500) throw error;
              const appError = error as AppError;
              const details = (appError.data as { details?: unknown } | undefined)?.details;
              const body: Record<string, unknown> = {
                code: type,
                message: appError.message,
                status: ERROR_CODES[type].status,
              };
              if (details) body.details = details;
              body.requestId = ctx.meta.requestId ?? "";
              results.push({ ...base, status: ERROR_CODES[type].status, error: body });
            }
          }
          return { results };
        },
      },
    },

    async started() {
      broker = this.broker;
      activityStore = await storage.open(activities);
      idempotency = new IdempotencyStore(await storage.open(idempotencyKeys));
      const dropGoal = async ({ goalId }: { goalId: string }) => {
        await activityStore.deleteMany({ goalId });
      };
      await bus.subscribe("goal.deleted", "activity", dropGoal);
      await bus.subscribe("user.deleted", "activity", async ({ userId }) => {
        await activityStore.deleteMany({ userId });
      });
      sweeper = setInterval(() => {
        Promise.all([sweepOutbox(), idempotency.purgeExpired()]).catch((error: unknown) =>
          this.logger.warn("activity sweep failed", String(error)),
        );
      }, OUTBOX_SWEEP_MS);
      sweeper.unref();
    },

    async stopped() {
      clearInterval(sweeper);
    },
  };
}
