import { expect } from "chai";
import { addDays } from "../../../shared/domain/calendar.ts";
import type { GoalRules } from "../../../shared/domain/goal-types.ts";
import {
  applyDayChanges,
  currentPeriodState,
  periodStates,
  recompute,
  viewAt,
  type LedgerSnapshot,
} from "../../../shared/domain/ledger.ts";
import { MemoryStore, rulesOf } from "./support.ts";

const daily = rulesOf({ pattern: "daily", startDate: "2026-01-01" });

/** A daily goal met every day from 2026-01-01 for `n` days, except the dates listed. */
function metDays(n: number, except: string[] = []): MemoryStore {
  const store = new MemoryStore();
  for (let i = 0; i < n; i++) {
    const date = addDays("2026-01-01", i);
    if (!except.includes(date)) store.put(date, 1, false);
  }
  return store;
}

async function expectEqualToRecompute(
  rules: GoalRules,
  snapshot: LedgerSnapshot,
  store: MemoryStore,
  today: string,
): Promise<void> {
  expect(snapshot).to.deep.equal(await recompute(rules, store, today));
}

describe("the incremental ledger (shared/domain/ledger.ts)", () => {
  it("recomputes streak and strength from the day entries", async () => {
    const store = metDays(20);
    const snapshot = await recompute(daily, store, "2026-01-21"); // the 21st is today, not yet logged
    expect(snapshot.streak).to.deep.equal({ current: 20, longest: 20, lastMetDate: "2026-01-20" });
    expect(Math.round((snapshot.strength ?? 0) * 10_000) / 10_000).to.equal(0.6557);
    expect(snapshot.history).to.equal("20m");
    expect(snapshot.currentStatus).to.equal("pending");
  });

  it("a snapshot survives JSON (the service stores it as a document)", async () => {
    const store = metDays(30, ["2026-01-10", "2026-01-11"]);
    const snapshot = await recompute(daily, store, "2026-01-30");
    expect(JSON.parse(JSON.stringify(snapshot))).to.deep.equal(snapshot);
  });

  it("a log for today reads only today's period, however long the history", async () => {
    const store = metDays(400, ["2026-03-01"]);
    const today = addDays("2026-01-01", 400);
    const before = await recompute(daily, store, today);
    store.reads.length = 0;
    store.put(today, 1, false);
    const after = await applyDayChanges(daily, before, [today], store, today);
    expect(store.reads).to.deep.equal([[today, today]]);
    expect(after.streak.current).to.equal(before.streak.current + 1);
    await expectEqualToRecompute(daily, after, store, today);
  });

  it("a log for this week on a weekly goal reads only this week", async () => {
    const weekly = rulesOf({
      pattern: "frequency",
      startDate: "2026-01-05",
      timesPerPeriod: 2,
      period: "week",
    });
    const store = new MemoryStore();
    for (let date = "2026-01-05"; date < "2026-06-01"; date = addDays(date, 3)) store.put(date, 1, false);
    const today = "2026-06-03"; // a Wednesday
    const before = await recompute(weekly, store, today);
    store.reads.length = 0;
    store.put(today, 1, false);
    const after = await applyDayChanges(weekly, before, [today], store, today);
    expect(store.reads).to.deep.equal([["2026-06-01", "2026-06-07"]]);
    await expectEqualToRecompute(weekly, after, store, today);
  });

  it("a backdated log reads only the changed period and joins two runs", async () => {
    const store = metDays(60, ["2026-02-01"]);
    const today = addDays("2026-01-01", 60);
    const before = await recompute(daily, store, today);
    expect(before.streak).to.deep.include({ current: 28, longest: 31 });
    store.reads.length = 0;
    store.put("2026-02-01", 2, false);
    const after = await applyDayChanges(daily, before, ["2026-02-01"], store, today);
    expect(store.reads).to.deep.equal([["2026-02-01", "2026-02-01"]]);
    expect(after.streak).to.deep.include({ current: 60, longest: 60 });
    await expectEqualToRecompute(daily, after, store, today);
  });

  it("deleting an activity can shrink longest, without a full recomputation", async () => {
    const store = metDays(40, ["2026-01-31"]); // runs of 30 and 9 days
    const today = addDays("2026-01-01", 40);
    const before = await recompute(daily, store, today);
    expect(before.streak).to.deep.include({ current: 9, longest: 30 });
    store.reads.length = 0;
    store.put("2026-01-15", 0, false);
    const after = await applyDayChanges(daily, before, ["2026-01-15"], store, today);
    expect(store.reads).to.deep.equal([["2026-01-15", "2026-01-15"]]);
    expect(after.streak).to.deep.include({ current: 9, longest: 15 }); // 1..14 and 16..30
    await expectEqualToRecompute(daily, after, store, today);
  });

  it("skipping a missed day mends the streak, un-skipping breaks it again", async () => {
    const store = metDays(20, ["2026-01-10"]);
    const today = "2026-01-21";
    const broken = await recompute(daily, store, today);
    expect(broken.streak.current).to.equal(10);
    store.put("2026-01-10", 0, true);
    const mended = await applyDayChanges(daily, broken, ["2026-01-10"], store, today);
    expect(mended.streak).to.deep.include({ current: 19, longest: 19 });
    await expectEqualToRecompute(daily, mended, store, today);
    store.put("2026-01-10", 0, false);
    const again = await applyDayChanges(daily, mended, ["2026-01-10"], store, today);
    expect(again).to.deep.equal(broken);
  });

  it("a day passing turns a pending today into a missed yesterday (viewAt)", async () => {
    const store = metDays(5);
    const snapshot = await recompute(daily, store, "2026-01-06");
    expect(snapshot.streak.current).to.equal(5);
    const tomorrow = await viewAt(daily, snapshot, store, "2026-01-07");
    expect(tomorrow.streak).to.deep.include({ current: 0, longest: 5 });
    await expectEqualToRecompute(daily, tomorrow, store, "2026-01-07");
  });

  it("a limit day within the cap becomes met when it ends (viewAt)", async () => {
    const limit = rulesOf({ pattern: "limit", startDate: "2026-01-01", limit: 2, period: "day" });
    const store = new MemoryStore({ "2026-01-03": 2 });
    const snapshot = await recompute(limit, store, "2026-01-03");
    expect(snapshot.streak.current).to.equal(2);
    const next = await viewAt(limit, snapshot, store, "2026-01-04");
    expect(next.streak.current).to.equal(3);
    await expectEqualToRecompute(limit, next, store, "2026-01-04");
  });

  it("moving on within the same period reads nothing", async () => {
    const weekly = rulesOf({ pattern: "limit", startDate: "2026-01-05", limit: 3, period: "week" });
    const store = new MemoryStore({ "2026-01-06": 1 });
    const snapshot = await recompute(weekly, store, "2026-01-06");
    store.reads.length = 0;
    const later = await viewAt(weekly, snapshot, store, "2026-01-09");
    expect(store.reads).to.deep.equal([]);
    await expectEqualToRecompute(weekly, later, store, "2026-01-09");
  });

  it("recomputes when the rules changed, when there is no snapshot, or when today went back", async () => {
    const store = metDays(10);
    const snapshot = await recompute(daily, store, "2026-01-11");
    const harder = { ...daily, target: 2 };
    const changed = await applyDayChanges(harder, snapshot, [], store, "2026-01-11");
    expect(changed.streak.current).to.equal(0);
    await expectEqualToRecompute(harder, changed, store, "2026-01-11");
    await expectEqualToRecompute(
      daily,
      await applyDayChanges(daily, null, [], store, "2026-01-11"),
      store,
      "2026-01-11",
    );
    await expectEqualToRecompute(
      daily,
      await viewAt(daily, snapshot, store, "2026-01-08"),
      store,
      "2026-01-08",
    );
  });

  it("ignores changes outside the goal's range and beyond the current period", async () => {
    const ending = rulesOf({ pattern: "daily", startDate: "2026-01-05", endDate: "2026-01-20" });
    const store = new MemoryStore({ "2026-01-05": 1 });
    const snapshot = await recompute(ending, store, "2026-01-06");
    store.put("2026-01-02", 5, false);
    store.put("2026-01-09", 0, true);
    store.reads.length = 0;
    const next = await applyDayChanges(
      ending,
      snapshot,
      ["2026-01-02", "2026-01-09", "not a date"],
      store,
      "2026-01-06",
    );
    expect(store.reads).to.deep.equal([]);
    await expectEqualToRecompute(ending, next, store, "2026-01-06");
  });

  it("has a goal that has not started yet, and one that is over", async () => {
    const later = rulesOf({ pattern: "daily", startDate: "2026-02-01", endDate: "2026-02-03" });
    const store = new MemoryStore({ "2026-02-01": 1, "2026-02-02": 1, "2026-02-03": 1 });
    const early = await recompute(later, store, "2026-01-15");
    expect(early).to.deep.include({ streak: { current: 0, longest: 0, lastMetDate: null }, strength: 0 });
    const over = await viewAt(later, early, store, "2026-03-01");
    expect(over.streak).to.deep.equal({ current: 3, longest: 3, lastMetDate: "2026-02-03" });
    expect(over.currentStatus).to.equal(null);
    await expectEqualToRecompute(later, over, store, "2026-03-01");
  });

  it("gives milestone goals no streak and no strength", async () => {
    const milestone = rulesOf({
      pattern: "milestone",
      startDate: "2026-01-01",
      milestoneCount: 3,
      milestonesDone: 1,
    });
    const store = new MemoryStore();
    const snapshot = await applyDayChanges(milestone, null, ["2026-01-02"], store, "2026-01-05");
    expect(snapshot).to.deep.include({
      streak: { current: 0, longest: 0, lastMetDate: null },
      strength: null,
    });
    expect(store.reads).to.deep.equal([]);
  });

  it("lists the evaluated periods of a range for the progress series, skipped ones included", async () => {
    const weekly = rulesOf({
      pattern: "frequency",
      startDate: "2026-01-07",
      timesPerPeriod: 1,
      period: "week",
    });
    const store = new MemoryStore({ "2026-01-08": 1 });
    for (let d = 12; d <= 18; d++) store.put(`2026-01-${d}`, 0, true);
    const series = await periodStates(weekly, store, "2026-01-01", "2026-01-31", "2026-01-28");
    expect(series.map((p) => [p.startDate, p.endDate, p.value, p.status])).to.deep.equal([
      ["2026-01-07", "2026-01-11", 1, "met"],
      ["2026-01-12", "2026-01-18", 0, "skipped"],
      ["2026-01-19", "2026-01-25", 0, "missed"],
      ["2026-01-26", "2026-02-01", 0, "pending"],
    ]);
    expect(await currentPeriodState(weekly, store, "2026-01-28")).to.deep.equal(series[3]);
    expect(await periodStates(weekly, store, "2025-12-01", "2025-12-31", "2026-01-28")).to.deep.equal([]);
  });
});
