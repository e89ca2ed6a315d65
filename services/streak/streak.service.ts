import type { ServiceBroker, ServiceSchema } from "moleculer";
import type { ActivityChange, ChannelPayloads, GoalState } from "../../shared/bus/channels.ts";
import type { RequestContext } from "../../shared/context.ts";
import { type Collection, DuplicateKeyError } from "../../shared/db/index.ts";
import { addDays, compareDates, maxDate, minDate, periodContaining } from "../../shared/domain/calendar.ts";
import type { GoalRules, LocalDate, PeriodState, Progress } from "../../shared/domain/goal-types.ts";
import {
  type LedgerSnapshot,
  applyDayChanges,
  periodStates,
  recompute,
  viewAt,
} from "../../shared/domain/ledger.ts";
import { periodKindOf } from "../../shared/domain/periods.ts";
import { progressOf } from "../../shared/domain/progress.ts";
import { milestonesReached } from "../../shared/domain/streaks.ts";
import { KeyedLock } from "../../shared/keyed-lock.ts";
import { healthMixin } from "../../shared/mixins.ts";
import { streakDriftRepaired, streakMilestones } from "../../shared/ops/metrics.ts";
import type { ServiceDeps } from "../../shared/runtime-types.ts";
import { ledgerStoreFor } from "./ledger-store.ts";
import {
  type GoalDayDoc,
  goalDays,
  type GoalLedgerDoc,
  goalLedgers,
  streakNotices,
  type StreakNoticeDoc,
  trackedActivities,
  type TrackedActivityDoc,
} from "./model.ts";

const PROGRESS_PACE_DAYS = 14;

const goalStateSchema = { type: "object" } as const;
const localDateSchema = { type: "string", pattern: "^\\d{4}-\\d{2}-\\d{2}$" } as const;

function newest(stored: GoalState | undefined, incoming: GoalState): GoalState {
  return stored && stored.version >= incoming.version ? stored : incoming;
}

function sameRules(a: GoalRules, b: GoalRules): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}

export interface GoalDerived {
  progress: Progress | null;
  streak: LedgerSnapshot["streak"] | null;
  strength: number | null;
}

/**
 * Each goal's period ledger: day totals from activity changes (idempotent, any order), streaks,
 * strength, progress and series, and the once-only streak and completion notices. Owns
 * `tracked_activities`, `goal_days`, `goal_ledgers` and `streak_notices`.
 */
export default function streakService(deps: ServiceDeps): ServiceSchema {
  const { storage, bus } = deps;
  const lock = new KeyedLock();
  let broker: ServiceBroker;
  let tracked: Collection<TrackedActivityDoc>;
  let days: Collection<GoalDayDoc>;
  let ledgers: Collection<GoalLedgerDoc>;
  let notices: Collection<StreakNoticeDoc>;

  async function refreshDay(goalId: string, userId: string, date: LocalDate): Promise<void> {
    const contributing = await tracked.find({ goalId, date, deleted: false });
    const total = contributing.reduce((sum, activity) => sum + activity.quantity, 0);
    const id = `${goalId}:${date}`;
    await days.updateOne({ _id: id }, { $set: { goalId, userId, date, total } }, { upsert: true });
    await days.deleteOne({ _id: id, total: 0, skipped: { $ne: true } });
  }

  /**
   * Publishes an announcement unless its notice is recorded, then records the notice. In this order a
   * failure in between announces again on the retry (the bus drops the second publish within its window,
   * the notification service keeps one per key), where the other order would lose the announcement.
   */
  async function announceOnce<C extends "streak.milestone" | "streak.broken" | "goal.completed">(
    id: string,
    goal: GoalState,
    channel: C,
    payload: ChannelPayloads[C],
  ): Promise<boolean> {
    if (await notices.findOne({ _id: id })) return false;
    await bus.publish(channel, payload, id);
    try {
      await notices.insert({ _id: id, goalId: goal.goalId, userId: goal.userId, createdAt: new Date() });
    } catch (error) {
      if (!(error instanceof DuplicateKeyError)) throw error;
    }
    return true;
  }

  async function announce(
    goal: GoalState,
    before: LedgerSnapshot | null,
    after: LedgerSnapshot,
    totalToDate: number,
    today: LocalDate,
  ) {
    const previous = before?.streak.current ?? 0;
    for (const milestone of milestonesReached(previous, after.streak.current)) {
      const announced = await announceOnce(
        `${goal.goalId}:milestone:${milestone}`,
        goal,
        "streak.milestone",
        {
          goalId: goal.goalId,
          userId: goal.userId,
          milestone,
          current: after.streak.current,
          lastMetDate: after.streak.lastMetDate,
        },
      );
      if (announced) streakMilestones.inc({ milestone: String(milestone) });
    }
    if (previous > 0 && after.streak.current === 0 && before?.streak.lastMetDate) {
      await announceOnce(`${goal.goalId}:broken:${before.streak.lastMetDate}`, goal, "streak.broken", {
        goalId: goal.goalId,
        userId: goal.userId,
        previous,
        lastMetDate: before.streak.lastMetDate,
      });
    }
    if (goal.rules.pattern === "target" && goal.rules.target !== null && goal.status !== "archived") {
      const reached = totalToDate >= goal.rules.target;
      if (reached !== (goal.status === "completed")) {
        await broker.call("goals.syncCompletion", { goalId: goal.goalId, completed: reached });
      }
      if (reached) {
        await announceOnce(`${goal.goalId}:completed`, goal, "goal.completed", {
          goalId: goal.goalId,
          userId: goal.userId,
          completedOn: today,
        });
      }
    }
  }

  /** The goal's total over its live activities, counted afresh (after an interrupted application). */
  async function recountedTotal(goalId: string): Promise<number> {
    const live = await tracked.find({ goalId, deleted: false });
    return live.reduce((sum, activity) => sum + activity.quantity, 0);
  }

  /**
   * Brings one goal's snapshot up to date after its days changed; the caller holds the goal's lock.
   * `totalDelta` is what the change adds to the running total, or "recount" to count it afresh. The
   * announcements go out before the ledger is written: until then a retry sees the same transition.
   */
  async function update(
    incoming: GoalState,
    changedDates: LocalDate[],
    today: LocalDate,
    totalDelta: number | "recount",
  ): Promise<void> {
    const ledger = await ledgers.findOne({ _id: incoming.goalId });
    const goal = newest(ledger?.goal, incoming);
    if (goal.rules.pattern === "milestone") return;
    const store = ledgerStoreFor(days, goal.goalId);
    const rulesChanged = !ledger || !sameRules(ledger.goal.rules, goal.rules);
    const snapshot = rulesChanged
      ? await recompute(goal.rules, store, today)
      : await applyDayChanges(goal.rules, ledger.snapshot, changedDates, store, today);
    const totalToDate =
      totalDelta === "recount" ? await recountedTotal(goal.goalId) : (ledger?.totalToDate ?? 0) + totalDelta;
    await announce(goal, ledger?.snapshot ?? null, snapshot, totalToDate, today);
    await ledgers.updateOne(
      { _id: goal.goalId },
      { $set: { userId: goal.userId, goal, snapshot, totalToDate, updatedAt: new Date() } },
      { upsert: true },
    );
  }

  /**
   * Applies one activity version once, in any order. The tracked record is written first with the dates
   * it changes as `pendingDates`, cleared once the days and the ledger have taken it: a failure in between
   * (the database gone mid-way) leaves them, and the redelivered message finishes the work instead of
   * taking the version for applied. The running total is then counted afresh, since whether the ledger
   * took the change's delta before the failure is unknown.
   */
  function applyActivity(change: ActivityChange): Promise<void> {
    return lock.run(change.goalId, async () => {
      const previous = await tracked.findOne({ _id: change.activityId });
      if (previous && previous.version > change.version) return; // an older version
      if (previous && previous.version === change.version) {
        if (previous.pendingDates?.length) await finishPending(previous, change.goal, change.today);
        return; // a replay
      }
      const unfinished = previous?.pendingDates ?? [];
      const dates = [
        ...new Set(
          [...unfinished, previous?.date, change.localDate].filter((d): d is LocalDate => d !== undefined),
        ),
      ];
      const next: TrackedActivityDoc = {
        _id: change.activityId,
        goalId: change.goalId,
        userId: change.userId,
        date: change.localDate,
        quantity: change.quantity,
        version: change.version,
        deleted: change.deleted,
        pendingDates: dates,
      };
      if (previous) {
        const { _id, ...fields } = next;
        const won = await tracked.updateOne({ _id, version: previous.version }, { $set: fields });
        if (won === 0) return;
      } else {
        try {
          await tracked.insert(next);
        } catch (error) {
          if (error instanceof DuplicateKeyError) return;
          throw error;
        }
      }
      const before = previous && !previous.deleted ? previous.quantity : 0;
      const after = change.deleted ? 0 : change.quantity;
      for (const date of dates) await refreshDay(change.goalId, change.userId, date);
      await update(change.goal, dates, change.today, unfinished.length > 0 ? "recount" : after - before);
      await tracked.updateOne(
        { _id: change.activityId, version: change.version },
        { $unset: { pendingDates: true } },
      );
    });
  }

  /** Completes the application of a version that an earlier attempt recorded but did not finish. */
  async function finishPending(kept: TrackedActivityDoc, goal: GoalState, today: LocalDate): Promise<void> {
    const dates = kept.pendingDates ?? [];
    for (const date of dates) await refreshDay(kept.goalId, kept.userId, date);
    await update(goal, dates, today, "recount");
    await tracked.updateOne({ _id: kept._id, version: kept.version }, { $unset: { pendingDates: true } });
  }

  function applySkips(change: ChannelPayloads["goal.skips.changed"]): Promise<void> {
    return lock.run(change.goalId, async () => {
      for (const date of change.dates) {
        const id = `${change.goalId}:${date}`;
        await days.updateOne(
          { _id: id },
          // $inc 0 gives a new day entry its total of 0 and leaves an existing one as it is.
          {
            $set: { goalId: change.goalId, userId: change.userId, date, skipped: change.skipped },
            $inc: { total: 0 },
          },
          { upsert: true },
        );
        if (!change.skipped) await refreshDay(change.goalId, change.userId, date);
      }
      await update(change.goal, change.dates, change.today, 0);
    });
  }

  function rulesChanged(goal: GoalState, today: LocalDate): Promise<void> {
    return lock.run(goal.goalId, () => update(goal, [], today, 0));
  }

  async function derivedOf(
    goal: GoalState,
    ledger: GoalLedgerDoc | undefined,
    today: LocalDate,
  ): Promise<GoalDerived> {
    const current = newest(ledger?.goal, goal);
    const rules = current.rules;
    const store = ledgerStoreFor(days, goal.goalId);
    if (rules.pattern === "milestone") {
      return {
        progress: progressOf(rules, null, { today, totalToDate: 0, recentDays: [] }),
        streak: null,
        strength: null,
      };
    }
    const snapshot =
      ledger && sameRules(ledger.goal.rules, rules)
        ? await viewAt(rules, ledger.snapshot, store, today)
        : await recompute(rules, store, today);
    const period = currentPeriod(rules, today);
    const states = period ? await periodStates(rules, store, period.startDate, period.endDate, today) : [];
    const recentDays = await store.days(addDays(today, 1 - PROGRESS_PACE_DAYS), today);
    const progress = progressOf(rules, states[0] ?? null, {
      today,
      totalToDate: ledger?.totalToDate ?? 0,
      recentDays,
    });
    return { progress, streak: snapshot.streak, strength: snapshot.strength };
  }

  function currentPeriod(
    rules: GoalRules,
    today: LocalDate,
  ): { startDate: LocalDate; endDate: LocalDate } | null {
    const kind = periodKindOf(rules);
    if (!kind) return null;
    const clamped = rules.endDate
      ? minDate(maxDate(today, rules.startDate), rules.endDate)
      : maxDate(today, rules.startDate);
    return periodContaining(clamped, kind, rules.weekStart);
  }

  /** Whether each goal's period ends on `date`, and whether it was met: the day's figures for stats. */
  async function dayOutcomes(
    goals: GoalState[],
    date: LocalDate,
    today: LocalDate,
  ): Promise<{ due: number; met: number }> {
    let due = 0;
    let met = 0;
    for (const goal of goals) {
      const rules = goal.rules;
      const kind = periodKindOf(rules);
      if (
        !kind ||
        compareDates(date, rules.startDate) < 0 ||
        (rules.endDate && compareDates(date, rules.endDate) > 0)
      )
        continue;
      const period = periodContaining(date, kind, rules.weekStart);
      const ends = rules.endDate ? minDate(period.endDate, rules.endDate) : period.endDate;
      if (ends !== date) continue;
      const [state] = await periodStates(rules, ledgerStoreFor(days, goal.goalId), date, date, today);
      if (!state || state.status === "skipped") continue;
      due += 1;
      if (state.status === "met") met += 1;
    }
    return { due, met };
  }

  /** Daily goals with a streak of 2 or more whose today is not met yet. */
  async function atRisk(
    goals: GoalState[],
    today: LocalDate,
  ): Promise<{ goalId: string; current: number }[]> {
    const daily = goals.filter((goal) => goal.rules.pattern === "daily" && goal.status === "active");
    const stored = await ledgers.find({ _id: { $in: daily.map((goal) => goal.goalId) } });
    const byId = new Map(stored.map((ledger) => [ledger._id, ledger]));
    const out: { goalId: string; current: number }[] = [];
    for (const goal of daily) {
      const derived = await derivedOf(goal, byId.get(goal.goalId), today);
      const [todayState] = await periodStates(
        goal.rules,
        ledgerStoreFor(days, goal.goalId),
        today,
        today,
        today,
      );
      if ((derived.streak?.current ?? 0) >= 2 && todayState?.status === "pending") {
        out.push({ goalId: goal.goalId, current: derived.streak!.current });
      }
    }
    return out;
  }

  /**
   * Rebuilds a goal's tracked activities and day totals from the activity service (the source of
   * truth), recomputes its snapshot, and repairs what differs. Returns whether anything had drifted.
   */
  async function verify(goal: GoalState, today: LocalDate): Promise<boolean> {
    if (goal.rules.pattern === "milestone") return false;
    const truth = await broker.call<
      { id: string; version: number; localDate: LocalDate; quantity: number }[],
      { goalId: string }
    >("activity.goalActivities", { goalId: goal.goalId });
    return lock.run(goal.goalId, async () => {
      let drifted = false;
      const live = new Map(truth.map((activity) => [activity.id, activity]));
      const touched = new Set<LocalDate>();
      for (const kept of await tracked.find({ goalId: goal.goalId })) {
        const source = live.get(kept._id);
        live.delete(kept._id);
        if (source && !kept.deleted && kept.date === source.localDate && kept.quantity === source.quantity)
          continue;
        if (!source && kept.deleted) continue;
        drifted = true;
        touched.add(kept.date);
        if (source) {
          touched.add(source.localDate);
          await tracked.updateOne(
            { _id: kept._id },
            {
              $set: {
                date: source.localDate,
                quantity: source.quantity,
                version: source.version,
                deleted: false,
              },
            },
          );
        } else {
          await tracked.updateOne({ _id: kept._id }, { $set: { deleted: true } });
        }
      }
      for (const source of live.values()) {
        drifted = true;
        touched.add(source.localDate);
        await tracked.insert({
          _id: source.id,
          goalId: goal.goalId,
          userId: goal.userId,
          date: source.localDate,
          quantity: source.quantity,
          version: source.version,
          deleted: false,
        });
      }
      // The tracked activities now mirror the source, so each day's total must be the source's sum for
      // that day: a day that differs is rebuilt (and has drifted). Only those are written, so a goal
      // without drift costs one read of its days, not three writes per day.
      const expected = new Map<LocalDate, number>();
      for (const activity of truth) {
        expected.set(activity.localDate, (expected.get(activity.localDate) ?? 0) + activity.quantity);
      }
      const stored = new Map((await days.find({ goalId: goal.goalId })).map((day) => [day.date, day.total]));
      for (const date of new Set([...stored.keys(), ...expected.keys(), ...touched])) {
        if (Math.abs((stored.get(date) ?? 0) - (expected.get(date) ?? 0)) < 1e-9) continue;
        drifted = true;
        await refreshDay(goal.goalId, goal.userId, date);
      }
      const ledger = await ledgers.findOne({ _id: goal.goalId });
      const current = newest(ledger?.goal, goal);
      const store = ledgerStoreFor(days, goal.goalId);
      const fresh = await recompute(current.rules, store, today);
      const kept = ledger ? await viewAt(current.rules, ledger.snapshot, store, today) : null;
      const totalToDate = truth.reduce((sum, activity) => sum + activity.quantity, 0);
      if (!kept || JSON.stringify(kept) !== JSON.stringify(fresh) || ledger?.totalToDate !== totalToDate)
        drifted = true;
      await ledgers.updateOne(
        { _id: goal.goalId },
        { $set: { userId: goal.userId, goal: current, snapshot: fresh, totalToDate, updatedAt: new Date() } },
        { upsert: true },
      );
      return drifted;
    });
  }

  async function forget(filter: Record<string, unknown>): Promise<void> {
    await tracked.deleteMany(filter);
    await days.deleteMany(filter);
    await notices.deleteMany(filter);
  }

  return {
    name: "streak",
    mixins: [healthMixin({ database: () => storage.ping(), bus: () => bus.ping() })],

    actions: {
      /** Progress, streak and strength of a user's goals in one call (a goal list is not N calls). */
      views: {
        visibility: "public",
        params: {
          type: "object",
          additionalProperties: false,
          required: ["today", "goals"],
          properties: {
            today: localDateSchema,
            goals: { type: "array", maxItems: 100, items: goalStateSchema },
          },
        },
        async handler(ctx: RequestContext<{ today: LocalDate; goals: GoalState[] }>) {
          const { today, goals } = ctx.params;
          const stored = await ledgers.find({ _id: { $in: goals.map((goal) => goal.goalId) } });
          const byId = new Map(stored.map((ledger) => [ledger._id, ledger]));
          const entries = await Promise.all(
            goals.map(
              async (goal) => [goal.goalId, await derivedOf(goal, byId.get(goal.goalId), today)] as const,
            ),
          );
          return Object.fromEntries(entries);
        },
      },

      series: {
        visibility: "public",
        params: {
          type: "object",
          additionalProperties: false,
          required: ["goal", "from", "to", "today"],
          properties: {
            goal: goalStateSchema,
            from: localDateSchema,
            to: localDateSchema,
            today: localDateSchema,
          },
        },
        async handler(
          ctx: RequestContext<{ goal: GoalState; from: LocalDate; to: LocalDate; today: LocalDate }>,
        ) {
          const { goal, today } = ctx.params;
          const ledger = (await ledgers.findOne({ _id: goal.goalId })) ?? undefined;
          const derived = await derivedOf(goal, ledger, today);
          const rules = newest(ledger?.goal, goal).rules;
          const from = maxDate(ctx.params.from, rules.startDate);
          const to = rules.endDate ? minDate(ctx.params.to, rules.endDate) : ctx.params.to;
          const states: PeriodState[] =
            rules.pattern === "milestone" || compareDates(from, to) > 0
              ? []
              : await periodStates(rules, ledgerStoreFor(days, goal.goalId), from, to, today);
          return {
            goalId: goal.goalId,
            current: derived.progress,
            series: states.map((state) => ({
              startDate: state.startDate,
              endDate: state.endDate,
              value: state.value,
              met: state.status === "met",
              skipped: state.status === "skipped",
            })),
          };
        },
      },

      /** For each date: how many of the goals had a period ending that day, and how many of those were met. */
      dayOutcomes: {
        visibility: "public",
        params: {
          type: "object",
          additionalProperties: false,
          required: ["goals", "dates", "today"],
          properties: {
            goals: { type: "array", items: goalStateSchema },
            dates: { type: "array", maxItems: 400, items: localDateSchema },
            today: localDateSchema,
          },
        },
        async handler(ctx: RequestContext<{ goals: GoalState[]; dates: LocalDate[]; today: LocalDate }>) {
          const out: Record<LocalDate, { due: number; met: number }> = {};
          for (const date of ctx.params.dates)
            out[date] = await dayOutcomes(ctx.params.goals, date, ctx.params.today);
          return out;
        },
      },

      atRisk: {
        visibility: "public",
        params: {
          type: "object",
          additionalProperties: false,
          required: ["goals", "today"],
          properties: { goals: { type: "array", items: goalStateSchema }, today: localDateSchema },
        },
        handler(ctx: RequestContext<{ goals: GoalState[]; today: LocalDate }>) {
          return atRisk(ctx.params.goals, ctx.params.today);
        },
      },

      /** The nightly check: rebuild from the activities, repair drift, report how many goals drifted. */
      verify: {
        visibility: "public",
        params: {
          type: "object",
          additionalProperties: false,
          required: ["goals", "today"],
          properties: { goals: { type: "array", items: goalStateSchema }, today: localDateSchema },
        },
        async handler(ctx: RequestContext<{ goals: GoalState[]; today: LocalDate }>) {
          let drifted = 0;
          for (const goal of ctx.params.goals) if (await verify(goal, ctx.params.today)) drifted += 1;
          if (drifted > 0) streakDriftRepaired.inc(drifted);
          return { checked: ctx.params.goals.length, drifted };
        },
      },

      applyActivity: {
        visibility: "public",
        async handler(ctx: RequestContext<ActivityChange>) {
          await applyActivity(ctx.params);
          return { ok: true };
        },
      },

      applySkips: {
        visibility: "public",
        async handler(ctx: RequestContext<ChannelPayloads["goal.skips.changed"]>) {
          await applySkips(ctx.params);
          return { ok: true };
        },
      },

      rulesChanged: {
        visibility: "public",
        async handler(ctx: RequestContext<{ goal: GoalState; today: LocalDate }>) {
          await rulesChanged(ctx.params.goal, ctx.params.today);
          return { ok: true };
        },
      },
    },

    async started() {
      broker = this.broker;
      tracked = await storage.open(trackedActivities);
      days = await storage.open(goalDays);
      ledgers = await storage.open(goalLedgers);
      notices = await storage.open(streakNotices);
      await bus.subscribe("activity.changed", "streak", applyActivity);
      await bus.subscribe("goal.skips.changed", "streak", applySkips);
      await bus.subscribe("goal.changed", "streak", async (change) => {
        const { today, ...goal } = change;
        await rulesChanged(goal, today);
      });
      await bus.subscribe("goal.deleted", "streak", async ({ goalId }) => {
        await lock.run(goalId, async () => {
          await forget({ goalId });
          await ledgers.deleteOne({ _id: goalId });
        });
      });
      await bus.subscribe("user.deleted", "streak", async ({ userId }) => {
        await forget({ userId });
        await ledgers.deleteMany({ userId });
      });
    },
  };
}
