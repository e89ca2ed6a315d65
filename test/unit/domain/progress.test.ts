import { expect } from "chai";
import type { PeriodState } from "../../../shared/domain/goal-types.ts";
import { evaluatePeriod } from "../../../shared/domain/periods.ts";
import { progressOf } from "../../../shared/domain/progress.ts";
import { days, rulesOf } from "./support.ts";

const TODAY = "2026-03-11"; // a Wednesday
const none = { today: TODAY, totalToDate: 0, recentDays: [] };
const state = (
  startDate: string,
  endDate: string,
  value: number,
  status: PeriodState["status"],
): PeriodState => ({
  startDate,
  endDate,
  value,
  status,
});

describe("progress in the current period (shared/domain/progress.ts)", () => {
  it("daily: the day's total against the target, capped at 100%", () => {
    const daily = rulesOf({ pattern: "daily", startDate: "2026-03-01", target: 8 });
    expect(progressOf(daily, state(TODAY, TODAY, 6, "pending"), none)).to.deep.equal({
      periodStartDate: TODAY,
      periodEndDate: TODAY,
      value: 6,
      goal: 8,
      met: false,
      percent: 75,
    });
    expect(progressOf(daily, state(TODAY, TODAY, 12, "met"), none)).to.deep.include({
      met: true,
      percent: 100,
    });
  });

  it("frequency: days done against timesPerPeriod; 100% once met, even with fewer days (partial week)", () => {
    const weekly = rulesOf({
      pattern: "frequency",
      startDate: "2026-03-01",
      timesPerPeriod: 3,
      period: "week",
    });
    expect(progressOf(weekly, state("2026-03-09", "2026-03-15", 1, "pending"), none)).to.deep.include({
      periodStartDate: "2026-03-09",
      periodEndDate: "2026-03-15",
      value: 1,
      goal: 3,
      met: false,
      percent: 33,
    });
    // A goal started on Saturday: its first week has two days, and two days meet it.
    const late = { ...weekly, startDate: "2026-03-14" };
    const first = evaluatePeriod(
      late,
      { startDate: "2026-03-09", endDate: "2026-03-15" },
      days({ "2026-03-14": 1, "2026-03-15": 1 }),
      "2026-03-15",
    );
    expect(progressOf(late, first, { ...none, today: "2026-03-15" })).to.deep.include({
      periodStartDate: "2026-03-14",
      value: 2,
      goal: 3,
      met: true,
      percent: 100,
    });
  });

  it("limit: the total against the cap, over 100% when over the cap (up to 1000%), never met before the period ends", () => {
    const limit = rulesOf({ pattern: "limit", startDate: "2026-03-01", limit: 4, period: "day" });
    expect(progressOf(limit, state(TODAY, TODAY, 3, "pending"), none)).to.deep.include({
      met: false,
      percent: 75,
    });
    expect(progressOf(limit, state(TODAY, TODAY, 6, "missed"), none)).to.deep.include({
      goal: 4,
      percent: 150,
    });
    expect(progressOf(limit, state(TODAY, TODAY, 400, "missed"), none).percent).to.equal(1000);
    const zero = { ...limit, limit: 0 };
    expect(progressOf(zero, state(TODAY, TODAY, 0, "pending"), none).percent).to.equal(0);
    expect(progressOf(zero, state(TODAY, TODAY, 1, "missed"), none).percent).to.equal(1000);
  });

  it("shows the first period, empty, before the goal starts (no current period)", () => {
    const weekly = rulesOf({
      pattern: "frequency",
      startDate: "2026-03-20",
      timesPerPeriod: 2,
      period: "week",
    });
    expect(progressOf(weekly, null, none)).to.deep.equal({
      periodStartDate: "2026-03-20",
      periodEndDate: "2026-03-22",
      value: 0,
      goal: 2,
      met: false,
      percent: 0,
    });
  });

  describe("target goals", () => {
    // 2026-03-01 .. 2026-03-30: 30 days, 300 to reach; today is day 11.
    const target = rulesOf({
      pattern: "target",
      startDate: "2026-03-01",
      endDate: "2026-03-30",
      target: 300,
    });

    it("cover the whole range: total to date against the target, with the linear pace expected by now", () => {
      const recent = days({ "2026-03-10": 20, "2026-03-11": 8 });
      expect(progressOf(target, null, { today: TODAY, totalToDate: 100, recentDays: recent })).to.deep.equal({
        periodStartDate: "2026-03-01",
        periodEndDate: "2026-03-30",
        value: 100,
        goal: 300,
        met: false,
        percent: 33,
        expectedByNow: 110, // 300 × 11 / 30
        // 28 over the 11 days since the start: 200 / (28/11) = 78.6 → 79 days on
        projectedDate: "2026-05-29",
      });
    });

    it("project from the average of the last 14 days", () => {
      const recent = days({ "2026-04-01": 70, "2026-04-10": 70 });
      const later = { today: "2026-04-10", totalToDate: 160, recentDays: recent };
      const wide = { ...target, endDate: "2026-06-30" };
      // 140 over 14 days = 10 a day; 140 to go → 14 days
      expect(progressOf(wide, null, later)).to.deep.include({ projectedDate: "2026-04-24" });
    });

    it("have no projected date when nothing was logged lately, and today once reached", () => {
      expect(
        progressOf(target, null, { today: TODAY, totalToDate: 50, recentDays: [] }).projectedDate,
      ).to.equal(null);
      expect(progressOf(target, null, { today: TODAY, totalToDate: 300, recentDays: [] })).to.deep.include({
        met: true,
        percent: 100,
        projectedDate: TODAY,
      });
    });

    it("expect nothing before the start and everything after the end", () => {
      expect(progressOf(target, null, { ...none, today: "2026-02-20" }).expectedByNow).to.equal(0);
      expect(progressOf(target, null, { ...none, today: "2026-04-20" }).expectedByNow).to.equal(300);
    });
  });

  it("milestone goals: milestones done against their count, over startDate..endDate (or startDate)", () => {
    const milestone = rulesOf({
      pattern: "milestone",
      startDate: "2026-03-01",
      milestoneCount: 4,
      milestonesDone: 1,
    });
    expect(progressOf(milestone, null, none)).to.deep.equal({
      periodStartDate: "2026-03-01",
      periodEndDate: "2026-03-01",
      value: 1,
      goal: 4,
      met: false,
      percent: 25,
    });
    const done = { ...milestone, milestonesDone: 4, endDate: "2026-05-01" };
    expect(progressOf(done, null, none)).to.deep.include({
      periodEndDate: "2026-05-01",
      met: true,
      percent: 100,
    });
  });
});
