import { expect } from "chai";
import type { GoalRules, PeriodState } from "../../../shared/domain/goal-types.ts";
import { evaluatePeriod, periodKindOf } from "../../../shared/domain/periods.ts";
import { days, rulesOf, type DaySpec } from "./support.ts";

// March 2026: Sunday 1, Monday 2, … Sunday 8, Monday 9. "Today" is Wednesday 2026-03-11 unless said otherwise.
const TODAY = "2026-03-11";
const WEEK_OF_2 = { startDate: "2026-03-02", endDate: "2026-03-08" };
const WEEK_OF_9 = { startDate: "2026-03-09", endDate: "2026-03-15" };
const dayPeriod = (date: string) => ({ startDate: date, endDate: date });

function judge(
  rules: GoalRules,
  period: { startDate: string; endDate: string },
  spec: DaySpec,
  today = TODAY,
) {
  return evaluatePeriod(rules, period, days(spec), today);
}
const status = (state: PeriodState) => state.status;

describe("judging one period (shared/domain/periods.ts)", () => {
  it("counts streaks in days (daily, target, day limits), weeks or months (frequency, week limits), none for milestones", () => {
    const kind = (fields: Partial<GoalRules> & Pick<GoalRules, "pattern">) =>
      periodKindOf(rulesOf({ startDate: "2026-03-01", ...fields }));
    expect(kind({ pattern: "daily" })).to.equal("day");
    expect(kind({ pattern: "target", target: 100, endDate: "2026-06-01" })).to.equal("day");
    expect(kind({ pattern: "frequency", period: "week", timesPerPeriod: 3 })).to.equal("week");
    expect(kind({ pattern: "frequency", period: "month", timesPerPeriod: 3 })).to.equal("month");
    expect(kind({ pattern: "limit", period: "day", limit: 2 })).to.equal("day");
    expect(kind({ pattern: "limit", period: "week", limit: 2 })).to.equal("week");
    expect(kind({ pattern: "milestone", milestoneCount: 3, milestonesDone: 0 })).to.equal(null);
  });

  describe("daily", () => {
    const daily = rulesOf({ pattern: "daily", startDate: "2026-03-01", target: 2 });

    it("a day is met when its total reaches the target, and its value is the total", () => {
      expect(judge(daily, dayPeriod("2026-03-05"), { "2026-03-05": 2 })).to.deep.equal({
        ...dayPeriod("2026-03-05"),
        value: 2,
        status: "met",
      });
      expect(status(judge(daily, dayPeriod("2026-03-05"), { "2026-03-05": 5 }))).to.equal("met");
    });

    it("an ended day below the target is missed (a day without entries has total 0)", () => {
      expect(status(judge(daily, dayPeriod("2026-03-05"), { "2026-03-05": 1.5 }))).to.equal("missed");
      expect(judge(daily, dayPeriod("2026-03-06"), {})).to.deep.include({ value: 0, status: "missed" });
    });

    it("today is pending until it is met: it has not ended", () => {
      expect(status(judge(daily, dayPeriod(TODAY), {}))).to.equal("pending");
      expect(status(judge(daily, dayPeriod(TODAY), { [TODAY]: 1 }))).to.equal("pending");
      expect(status(judge(daily, dayPeriod(TODAY), { [TODAY]: 2 }))).to.equal("met");
    });

    it("a skipped day is skipped, even when its total reaches the target (it still shows the total)", () => {
      expect(judge(daily, dayPeriod("2026-03-05"), { "2026-03-05": "skip" })).to.deep.include({
        value: 0,
        status: "skipped",
      });
      expect(judge(daily, dayPeriod("2026-03-05"), { "2026-03-05": [3, "skip"] })).to.deep.include({
        value: 3,
        status: "skipped",
      });
      expect(status(judge(daily, dayPeriod("2026-03-12"), { "2026-03-12": "skip" }))).to.equal("skipped"); // planned
    });

    it("defaults the target to 1", () => {
      const plain = rulesOf({ pattern: "daily", startDate: "2026-03-01" });
      expect(status(judge(plain, dayPeriod("2026-03-05"), { "2026-03-05": 1 }))).to.equal("met");
    });

    it("periods before startDate don't exist (and neither do periods after endDate)", () => {
      expect(() => judge(daily, dayPeriod("2026-02-28"), {})).to.throw(RangeError);
      const ending = rulesOf({ pattern: "daily", startDate: "2026-03-01", endDate: "2026-03-04" });
      expect(() => judge(ending, dayPeriod("2026-03-05"), {})).to.throw(RangeError);
    });

    it("ignores entries outside the period", () => {
      expect(status(judge(daily, dayPeriod("2026-03-05"), { "2026-03-04": 9, "2026-03-06": 9 }))).to.equal(
        "missed",
      );
    });
  });

  describe("target goals", () => {
    const target = rulesOf({
      pattern: "target",
      startDate: "2026-03-01",
      endDate: "2026-04-30",
      target: 100,
    });

    it("a day with any activity is met (target goals count days with any activity)", () => {
      expect(judge(target, dayPeriod("2026-03-05"), { "2026-03-05": 0.5 })).to.deep.include({
        value: 0.5,
        status: "met",
      });
    });

    it("a past day without activity is missed, today is pending", () => {
      expect(status(judge(target, dayPeriod("2026-03-05"), {}))).to.equal("missed");
      expect(status(judge(target, dayPeriod(TODAY), {}))).to.equal("pending");
    });
  });

  describe("frequency", () => {
    const thrice = rulesOf({
      pattern: "frequency",
      startDate: "2026-02-01",
      timesPerPeriod: 3,
      period: "week",
    });

    it("counts the days whose total reaches the per-day target (default 1)", () => {
      const perDay = { ...thrice, target: 2 };
      const spec = { "2026-03-02": 2, "2026-03-03": 1, "2026-03-04": 3, "2026-03-05": 1.9 };
      expect(judge(perDay, WEEK_OF_2, spec).value).to.equal(2);
      expect(judge(thrice, WEEK_OF_2, spec).value).to.equal(4);
    });

    it("a week is met as soon as timesPerPeriod days are done, even before it ends", () => {
      const spec = { "2026-03-09": 1, "2026-03-10": 1, "2026-03-11": 1 };
      expect(judge(thrice, WEEK_OF_9, spec)).to.deep.equal({ ...WEEK_OF_9, value: 3, status: "met" });
    });

    it("an open week short of timesPerPeriod is pending; an ended one is missed", () => {
      expect(status(judge(thrice, WEEK_OF_9, { "2026-03-09": 1 }))).to.equal("pending");
      expect(status(judge(thrice, WEEK_OF_2, { "2026-03-02": 1, "2026-03-08": 1 }))).to.equal("missed");
    });

    it("skipped days lower the days required: 3×/week with 5 days skipped needs the 2 days left", () => {
      const spec: DaySpec = { "2026-03-02": "skip", "2026-03-03": "skip", "2026-03-04": "skip" };
      Object.assign(spec, { "2026-03-05": "skip", "2026-03-06": "skip", "2026-03-07": 1 });
      expect(status(judge(thrice, WEEK_OF_2, spec))).to.equal("missed");
      expect(judge(thrice, WEEK_OF_2, { ...spec, "2026-03-08": 1 })).to.deep.include({
        value: 2,
        status: "met",
      });
    });

    it("a skipped day's activity does not count toward the week", () => {
      const spec: DaySpec = { "2026-03-02": [1, "skip"], "2026-03-03": 1, "2026-03-04": 1 };
      expect(judge(thrice, WEEK_OF_2, spec)).to.deep.include({ value: 2, status: "missed" });
    });

    it("a week whose every active day is skipped is skipped", () => {
      const spec: DaySpec = {};
      for (let d = 2; d <= 8; d++) spec[`2026-03-0${d}`] = "skip";
      expect(status(judge(thrice, WEEK_OF_2, spec))).to.equal("skipped");
    });

    it("the first week starts at startDate, and needs at most its own number of days", () => {
      // Starting on Saturday 2026-03-07: the Monday week has 2 active days, so 3×/week needs 2.
      const late = { ...thrice, startDate: "2026-03-07" };
      expect(judge(late, WEEK_OF_2, { "2026-03-02": 1, "2026-03-03": 1, "2026-03-07": 1 })).to.deep.equal({
        startDate: "2026-03-07",
        endDate: "2026-03-08",
        value: 1,
        status: "missed",
      });
      expect(status(judge(late, WEEK_OF_2, { "2026-03-07": 1, "2026-03-08": 1 }))).to.equal("met");
      // Both its days skipped: the clipped week is skipped.
      expect(status(judge(late, WEEK_OF_2, { "2026-03-07": "skip", "2026-03-08": "skip" }))).to.equal(
        "skipped",
      );
    });

    it("the last week ends at the goal's endDate, and has ended once that date is past", () => {
      const ending = { ...thrice, endDate: "2026-03-10" };
      const state = judge(ending, WEEK_OF_9, { "2026-03-09": 1 }); // today is the 11th
      expect(state).to.deep.equal({
        startDate: "2026-03-09",
        endDate: "2026-03-10",
        value: 1,
        status: "missed",
      });
    });

    it("works over calendar months", () => {
      const monthly = rulesOf({
        pattern: "frequency",
        startDate: "2026-01-01",
        timesPerPeriod: 2,
        period: "month",
      });
      const february = { startDate: "2026-02-01", endDate: "2026-02-28" };
      expect(status(judge(monthly, february, { "2026-02-27": 1 }))).to.equal("missed");
      expect(status(judge(monthly, february, { "2026-02-01": 1, "2026-02-28": 4 }))).to.equal("met");
      const march = { startDate: "2026-03-01", endDate: "2026-03-31" };
      expect(status(judge(monthly, march, { "2026-03-01": 1 }))).to.equal("pending");
    });
  });

  describe("limit", () => {
    const dayLimit = rulesOf({ pattern: "limit", startDate: "2026-03-01", limit: 2, period: "day" });
    const weekLimit = rulesOf({ pattern: "limit", startDate: "2026-03-01", limit: 5, period: "week" });

    it("a limit period over the limit is missed at once, even before it ends", () => {
      expect(judge(dayLimit, dayPeriod(TODAY), { [TODAY]: 3 })).to.deep.include({
        value: 3,
        status: "missed",
      });
      expect(status(judge(weekLimit, WEEK_OF_9, { "2026-03-09": 4, "2026-03-10": 2 }))).to.equal("missed");
    });

    it("a limit period within the limit counts only once it has ended: pending until then", () => {
      expect(status(judge(dayLimit, dayPeriod(TODAY), { [TODAY]: 2 }))).to.equal("pending");
      expect(status(judge(dayLimit, dayPeriod("2026-03-10"), { "2026-03-10": 2 }))).to.equal("met");
      expect(status(judge(weekLimit, WEEK_OF_9, { "2026-03-09": 5 }))).to.equal("pending");
      expect(judge(weekLimit, WEEK_OF_2, { "2026-03-02": 3, "2026-03-08": 2 })).to.deep.include({
        value: 5,
        status: "met",
      });
    });

    it("a day without entries is within the limit (a cap of 0 is met by doing nothing)", () => {
      const none = { ...dayLimit, limit: 0 };
      expect(status(judge(none, dayPeriod("2026-03-05"), {}))).to.equal("met");
      expect(status(judge(none, dayPeriod("2026-03-05"), { "2026-03-05": 0.1 }))).to.equal("missed");
    });

    it("skipped days neither count against the cap nor break: an all-skipped period is skipped", () => {
      expect(status(judge(dayLimit, dayPeriod("2026-03-05"), { "2026-03-05": [9, "skip"] }))).to.equal(
        "skipped",
      );
      expect(judge(weekLimit, WEEK_OF_2, { "2026-03-02": [9, "skip"], "2026-03-03": 5 })).to.deep.include({
        value: 5,
        status: "met",
      });
    });

    it("the first week of a week limit is clipped to startDate", () => {
      // 2026-03-01 is a Sunday: with Monday weeks, the first week is that Sunday alone.
      const first = { startDate: "2026-02-23", endDate: "2026-03-01" };
      expect(judge(weekLimit, first, { "2026-02-25": 9, "2026-03-01": 1 })).to.deep.equal({
        startDate: "2026-03-01",
        endDate: "2026-03-01",
        value: 1,
        status: "met",
      });
    });
  });

  it("milestone goals have no periods", () => {
    const milestone = rulesOf({
      pattern: "milestone",
      startDate: "2026-03-01",
      milestoneCount: 2,
      milestonesDone: 0,
    });
    expect(() => judge(milestone, dayPeriod("2026-03-05"), {})).to.throw(RangeError);
  });
});
