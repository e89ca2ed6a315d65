import { expect } from "chai";
import type { GoalState } from "../../shared/bus/channels.ts";
import type { RequestMeta } from "../../shared/context.ts";
import { registry } from "../../shared/ops/metrics.ts";
import { dailyStats, jobRuns, statActivities } from "../../services/aggregation/model.ts";
import { goalDays } from "../../services/streak/model.ts";
import { type ServiceHarness, startServices } from "../helpers/service-harness.ts";

const DAY = 86_400_000;
const dateDaysAgo = (n: number) => new Date(Date.now() - n * DAY).toISOString().slice(0, 10);

async function driftRepaired(): Promise<number> {
  const metric = await registry.getSingleMetric("streak_drift_repaired_total")?.get();
  return metric?.values[0]?.value ?? 0;
}

describe("aggregation service: the scheduler and the nightly verification", function () {
  this.timeout(30_000);
  let harness: ServiceHarness;
  let meta: RequestMeta;

  before(async () => {
    harness = await startServices(["auth", "goals", "activity", "streak", "aggregation"]);
    const session = await harness.call<{ user: { id: string } }>("auth.register", {
      email: "agg@example.test",
      password: "password1",
    });
    meta = { user: { id: session.user.id, role: "user" } };
  });
  after(async () => harness?.stop());

  it("runs a scheduled slot once, however many times (or replicas) trigger it", async () => {
    const now = "2026-11-22T10:05:00.000Z";
    const first = await harness.call<{ job: string } | null>("aggregation.runScheduled", {
      name: "retention",
      now,
    });
    const second = await harness.call<{ job: string } | null>("aggregation.runScheduled", {
      name: "retention",
      now,
    });
    const nextHourOfSameDay = await harness.call<{ job: string } | null>("aggregation.runScheduled", {
      name: "retention",
      now: "2026-11-22T23:59:00.000Z",
    });
    expect(first?.job).to.equal("retention");
    expect(second).to.equal(null);
    expect(nextHourOfSameDay).to.equal(null);
    const runs = await harness.system.storage.open(jobRuns);
    const recorded = await runs.find({ job: "retention", slot: "2026-11-22" });
    expect(recorded).to.have.length(1);
    expect(recorded[0]).to.include({ trigger: "schedule", processed: 0, error: null });
    expect(recorded[0]!.finishedAt).to.be.instanceOf(Date);
  });

  it("refreshes a closed day after a count interrupted mid-way: the redelivered message finishes it", async () => {
    const goal = await harness.call<{ id: string }>(
      "goals.create",
      { title: "c", pattern: "daily", startDate: dateDaysAgo(3) },
      meta,
    );
    const userId = meta.user!.id;
    const yesterday = dateDaysAgo(1);
    const closed = await harness.system.storage.open(dailyStats);
    await closed.updateOne(
      { _id: `${userId}:${yesterday}` },
      {
        $set: {
          userId,
          date: yesterday,
          activities: 0,
          quantity: 0,
          goalsDue: 0,
          goalsMet: 0,
          closedAt: new Date(),
        },
      },
      { upsert: true },
    );
    // What a count interrupted after its first write leaves (the database gone before the day was refreshed).
    const activityId = `interrupted-${goal.id}`;
    const counted = await harness.system.storage.open(statActivities);
    await counted.insert({
      _id: activityId,
      userId,
      goalId: goal.id,
      date: yesterday,
      quantity: 3,
      version: 1,
      deleted: false,
      pendingDates: [yesterday],
    });
    const { state } = await harness.call<{ state: GoalState }>("goals.forLogging", {
      goalId: goal.id,
      userId,
      weekStart: "monday",
    });
    await harness.system.bus.publish("activity.changed", {
      activityId,
      goalId: goal.id,
      userId,
      version: 1,
      localDate: yesterday,
      quantity: 3,
      deleted: false,
      occurredAt: new Date(Date.now() - DAY).toISOString(),
      goal: state,
      today: dateDaysAgo(0),
    });
    const day = async () =>
      (
        await harness.call<{ activities: number; quantity: number }[]>(
          "aggregation.daily",
          { from: yesterday, to: yesterday },
          meta,
        )
      )[0];
    const deadline = Date.now() + 10_000;
    while ((await day())?.activities !== 1 && Date.now() < deadline)
      await new Promise((resolve) => setTimeout(resolve, 50));
    expect(await day()).to.include({ activities: 1, quantity: 3 });
    expect((await counted.findOne({ _id: activityId }))?.pendingDates).to.equal(undefined);
  });

  it("verify-streaks rebuilds a drifted ledger from the activities and counts the repair", async () => {
    const goal = await harness.call<{ id: string }>(
      "goals.create",
      { title: "v", pattern: "daily", startDate: dateDaysAgo(3) },
      meta,
    );
    for (const n of [2, 1, 0]) {
      await harness.call(
        "activity.log",
        { id: goal.id, quantity: 1, occurredAt: new Date(Date.now() - n * DAY).toISOString() },
        meta,
      );
    }
    expect(
      (await harness.call<{ streak: { current: number } }>("goals.get", { id: goal.id }, meta)).streak
        .current,
    ).to.equal(3);
    // Drift: a day entry lost its total (a bug, a half-applied write, a restored backup).
    const days = await harness.system.storage.open(goalDays);
    await days.updateOne({ _id: `${goal.id}:${dateDaysAgo(1)}` }, { $set: { total: 0 } });
    await harness.call("streak.rulesChanged", {
      goal: (
        await harness.call<{ state: object }>("goals.forLogging", {
          goalId: goal.id,
          userId: meta.user!.id,
          weekStart: "monday",
        })
      ).state,
      today: dateDaysAgo(0),
    });
    const before = await driftRepaired();
    const run = await harness.call<{ processed: number }>(
      "aggregation.runJob",
      { name: "verify-streaks" },
      meta,
    );
    expect(run.processed).to.be.at.least(1);
    expect(await driftRepaired()).to.be.greaterThan(before);
    expect(
      (await harness.call<{ streak: { current: number } }>("goals.get", { id: goal.id }, meta)).streak
        .current,
    ).to.equal(3);
    const again = await driftRepaired();
    await harness.call("aggregation.runJob", { name: "verify-streaks" }, meta);
    expect(await driftRepaired()).to.equal(again);
  });
});
