import { expect } from "chai";
import type { ActivityChange, ChannelPayloads, GoalState } from "../../shared/bus/channels.ts";
import type { RequestMeta } from "../../shared/context.ts";
import { AppError } from "../../shared/errors.ts";
import { newId } from "../../shared/ids.ts";
import { CLAIM_STALE_MS, IdempotencyStore, requestHash } from "../../services/activity/idempotency.ts";
import { activities, idempotencyKeys } from "../../services/activity/model.ts";
import { goals } from "../../services/goals/model.ts";
import { goalDays, goalLedgers, trackedActivities } from "../../services/streak/model.ts";
import { type ServiceHarness, startServices } from "../helpers/service-harness.ts";

interface Goal {
  id: string;
  streak: { current: number; longest: number } | null;
  progress: { value: number } | null;
}

const DAY = 86_400_000;
const dateDaysAgo = (n: number) => new Date(Date.now() - n * DAY).toISOString().slice(0, 10);

async function eventually(check: () => Promise<boolean>, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await check()) return;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error("condition not met in time");
}

describe("activity and streak services (brokers of their own)", function () {
  this.timeout(30_000);
  let harness: ServiceHarness;
  let meta: RequestMeta;
  const milestones: ChannelPayloads["streak.milestone"][] = [];

  before(async function () {
    harness = await startServices(["auth", "goals", "activity", "streak"]);
    const session = await harness.call<{ user: { id: string } }>("auth.register", {
      email: "svc@example.test",
      password: "password1",
    });
    meta = { user: { id: session.user.id, role: "user" } };
    await harness.system.bus.subscribe("streak.milestone", "test-observer", async (payload) => {
      milestones.push(payload);
    });
  });
  after(async () => harness?.stop());

  const createGoal = (body: Record<string, unknown>) =>
    harness.call<Goal>(
      "goals.create",
      { title: "g", pattern: "daily", startDate: dateDaysAgo(10), ...body },
      meta,
    );
  const readGoal = (id: string) => harness.call<Goal>("goals.get", { id }, meta);
  const goalState = async (goalId: string) =>
    (
      await harness.call<{ state: GoalState }>("goals.forLogging", {
        goalId,
        userId: meta.user!.id,
        weekStart: "monday",
      })
    ).state;

  it("loses nothing when a crash struck between the insert and the publish: the outbox sweeper publishes it", async () => {
    const goal = await createGoal({});
    const store = await harness.system.storage.open(activities);
    const now = new Date();
    // What a crash right after the insert leaves behind: the activity, marked unpublished.
    await store.insert({
      _id: `crashed-${Date.now()}`,
      userId: meta.user!.id,
      goalId: goal.id,
      quantity: 1,
      note: null,
      occurredAt: now,
      localDate: dateDaysAgo(0),
      milestoneId: null,
      createdAt: now,
      updatedAt: now,
      version: 1,
      deleted: false,
      unpublished: true,
    });
    expect((await readGoal(goal.id)).streak?.current).to.equal(0);
    await harness.call("activity.sweep", { graceMs: 0 });
    await eventually(async () => (await readGoal(goal.id)).streak?.current === 1);
    const remaining = await store.count({ goalId: goal.id, unpublished: true });
    expect(remaining).to.equal(0);
  });

  it("finishes a log whose request died after storing it: a retry with its Idempotency-Key answers that activity, stores no second", async () => {
    const goal = await createGoal({});
    const userId = meta.user!.id;
    const key = `died-${Date.now()}`;
    const params = { quantity: 2 };
    const claimedAt = new Date(Date.now() - CLAIM_STALE_MS - 1000);
    const activityId = newId(claimedAt.getTime());
    // What a SIGKILL between the insert and the answer leaves: the key still claimed, the activity unpublished.
    const keys = await harness.system.storage.open(idempotencyKeys);
    await keys.insert({
      _id: `${userId}:${key}`,
      requestHash: requestHash({ goalId: goal.id, ...params }),
      state: "pending",
      status: null,
      body: null,
      createdAt: claimedAt,
      claimedAt,
      resourceId: activityId,
    });
    const store = await harness.system.storage.open(activities);
    await store.insert({
      _id: activityId,
      userId,
      goalId: goal.id,
      quantity: 2,
      note: null,
      occurredAt: claimedAt,
      localDate: claimedAt.toISOString().slice(0, 10),
      milestoneId: null,
      createdAt: claimedAt,
      updatedAt: claimedAt,
      version: 1,
      deleted: false,
      unpublished: true,
    });
    const retried = await harness.call<{ id: string }>(
      "activity.log",
      { id: goal.id, ...params },
      { ...meta, idempotencyKey: key },
    );
    expect(retried.id).to.equal(activityId);
    expect(await store.count({ goalId: goal.id })).to.equal(1);
    expect(await store.count({ _id: activityId, unpublished: true })).to.equal(0);
    expect((await readGoal(goal.id)).progress?.value).to.equal(2);
  });

  it("keeps a key's activity id when its request failed after it may have written, frees the key after a refusal", async () => {
    const keys = new IdempotencyStore(await harness.system.storage.open(idempotencyKeys));
    const user = `user-${Date.now()}`;
    const given: string[] = [];
    const failure = await keys
      .run(user, "k", "hash", async (claim) => {
        given.push(claim.resourceId);
        throw new Error("the bus did not answer");
      })
      .catch((error: unknown) => error);
    expect(String(failure)).to.contain("the bus did not answer");
    await keys.run(user, "k", "hash", async (claim) => {
      given.push(claim.resourceId);
      return { status: 201, body: {} };
    });
    expect(given[1]).to.equal(given[0]);
    // A refusal (4xx) comes before any write: the key is free again, even for another request.
    const refusal = await keys
      .run(user, "r", "hash", async () => {
        throw new AppError("GOAL_NOT_FOUND");
      })
      .catch((error: unknown) => error);
    expect((refusal as AppError).type).to.equal("GOAL_NOT_FOUND");
    const other = await keys.run(user, "r", "another hash", async () => ({ status: 201, body: "stored" }));
    expect(other.body).to.equal("stored");
  });

  it("finishes applying an activity whose first attempt stopped after recording it, and counts it once", async () => {
    const goal = await createGoal({ pattern: "target", target: 100, endDate: "2099-12-31" });
    const today = dateDaysAgo(0);
    const change: ActivityChange = {
      activityId: `interrupted-${goal.id}`,
      goalId: goal.id,
      userId: meta.user!.id,
      version: 1,
      localDate: today,
      quantity: 4,
      deleted: false,
      occurredAt: new Date().toISOString(),
      goal: await goalState(goal.id),
      today,
    };
    // What an attempt stopped after its first write leaves (the database gone before the day was refreshed).
    const tracked = await harness.system.storage.open(trackedActivities);
    await tracked.insert({
      _id: change.activityId,
      goalId: goal.id,
      userId: meta.user!.id,
      date: today,
      quantity: 4,
      version: 1,
      deleted: false,
      pendingDates: [today],
    });
    await harness.call("streak.applyActivity", change);
    expect((await readGoal(goal.id)).progress?.value).to.equal(4);
    expect((await tracked.findOne({ _id: change.activityId }))?.pendingDates).to.equal(undefined);
    // Stopped after the ledger took it, before the mark was cleared: the replay does not count it twice.
    await tracked.updateOne({ _id: change.activityId }, { $set: { pendingDates: [today] } });
    await harness.call("streak.applyActivity", change);
    expect((await readGoal(goal.id)).progress?.value).to.equal(4);
  });

  it("announces a milestone whose announcement failed when the event comes again", async () => {
    const goal = await createGoal({ startDate: dateDaysAgo(2) });
    const state = await goalState(goal.id);
    const change = (n: number): ActivityChange => ({
      activityId: `announce-${goal.id}-${n}`,
      goalId: goal.id,
      userId: meta.user!.id,
      version: 1,
      localDate: dateDaysAgo(n),
      quantity: 1,
      deleted: false,
      occurredAt: new Date(Date.now() - n * DAY).toISOString(),
      goal: state,
      today: dateDaysAgo(0),
    });
    await harness.call("streak.applyActivity", change(2));
    await harness.call("streak.applyActivity", change(1));
    // The bus refuses the next milestone once, as NATS does while it restarts.
    const bus = harness.system.bus;
    const publish = bus.publish.bind(bus);
    let refused = 0;
    bus.publish = (async (channel, payload, messageId) => {
      if (channel === "streak.milestone" && refused === 0) {
        refused += 1;
        throw new Error("NATS is restarting");
      }
      return publish(channel, payload, messageId);
    }) as typeof bus.publish;
    try {
      const failure = await harness.call("streak.applyActivity", change(0)).catch((error: unknown) => error);
      expect(String(failure)).to.contain("NATS is restarting");
      await harness.call("streak.applyActivity", change(0));
    } finally {
      bus.publish = publish;
    }
    await eventually(async () => milestones.some((m) => m.goalId === goal.id && m.milestone === 3));
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(milestones.filter((m) => m.goalId === goal.id && m.milestone === 3)).to.have.length(1);
    expect((await readGoal(goal.id)).streak?.current).to.equal(3);
  });

  it("applies each activity version once, in any order: replays and older versions change nothing", async () => {
    const goal = await createGoal({ target: 10 });
    const state = await goalState(goal.id);
    const change = (version: number, quantity: number): ActivityChange => ({
      activityId: `act-${goal.id}`,
      goalId: goal.id,
      userId: meta.user!.id,
      version,
      localDate: dateDaysAgo(0),
      quantity,
      deleted: false,
      occurredAt: new Date().toISOString(),
      goal: state,
      today: dateDaysAgo(0),
    });
    await harness.call("streak.applyActivity", change(2, 3));
    await harness.call("streak.applyActivity", change(1, 1));
    await harness.call("streak.applyActivity", change(2, 3));
    await harness.system.bus.publish("activity.changed", change(2, 3));
    await harness.system.bus.publish("activity.changed", change(1, 1));
    await new Promise((resolve) => setTimeout(resolve, 500));
    expect((await readGoal(goal.id)).progress?.value).to.equal(3);
    await harness.call("streak.applyActivity", { ...change(3, 3), deleted: true });
    expect((await readGoal(goal.id)).progress?.value).to.equal(0);
  });

  it("announces a streak milestone once per goal, however often its events arrive", async () => {
    const goal = await createGoal({ startDate: dateDaysAgo(2) });
    const ids: string[] = [];
    for (const n of [2, 1, 0]) {
      const logged = await harness.call<{ id: string }>(
        "activity.log",
        { id: goal.id, quantity: 1, occurredAt: new Date(Date.now() - n * DAY).toISOString() },
        meta,
      );
      ids.push(logged.id);
    }
    await eventually(async () => milestones.some((m) => m.goalId === goal.id && m.milestone === 3));
    // Break the streak and build it again: the milestone of 3 was already announced.
    await harness.call("activity.remove", { id: ids[1] }, meta);
    await harness.call(
      "activity.log",
      { id: goal.id, quantity: 1, occurredAt: new Date(Date.now() - DAY).toISOString() },
      meta,
    );
    await new Promise((resolve) => setTimeout(resolve, 500));
    expect((await readGoal(goal.id)).streak?.current).to.equal(3);
    expect(milestones.filter((m) => m.goalId === goal.id && m.milestone === 3)).to.have.length(1);
  });

  it("takes a deleted goal's activities and ledger with it", async () => {
    const goal = await createGoal({});
    await harness.call("activity.log", { id: goal.id, quantity: 1 }, meta);
    await harness.call("goals.remove", { id: goal.id }, meta);
    const [activityStore, ledgerStore, dayStore] = await Promise.all([
      harness.system.storage.open(activities),
      harness.system.storage.open(goalLedgers),
      harness.system.storage.open(goalDays),
    ]);
    await eventually(async () => (await activityStore.count({ goalId: goal.id })) === 0);
    await eventually(
      async () =>
        (await ledgerStore.count({ _id: goal.id })) + (await dayStore.count({ goalId: goal.id })) === 0,
    );
  });

  it("deletes everything of a user when the account is deleted (user.deleted)", async () => {
    const session = await harness.call<{ user: { id: string } }>("auth.register", {
      email: "gone@example.test",
      password: "password1",
    });
    const owner: RequestMeta = { user: { id: session.user.id, role: "user" } };
    const goal = await harness.call<Goal>("goals.create", { title: "g", pattern: "daily" }, owner);
    await harness.call("activity.log", { id: goal.id, quantity: 1 }, owner);
    await harness.call("auth.deleteAccount", {}, owner);
    const stores = await Promise.all([
      harness.system.storage.open(goals),
      harness.system.storage.open(activities),
      harness.system.storage.open(trackedActivities),
      harness.system.storage.open(goalLedgers),
    ]);
    await eventually(async () => {
      const counts = await Promise.all(stores.map((store) => store.count({ userId: session.user.id })));
      return counts.every((count) => count === 0);
    });
  });
});
