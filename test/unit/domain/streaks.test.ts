import { expect } from "chai";
import { addDays } from "../../../shared/domain/calendar.ts";
import type { PeriodState, PeriodStatus } from "../../../shared/domain/goal-types.ts";
import { evaluatePeriod } from "../../../shared/domain/periods.ts";
import { milestonesReached, STREAK_MILESTONES, streakOf } from "../../../shared/domain/streaks.ts";
import { days, rulesOf } from "./support.ts";

/** Day periods from 2026-03-01 with the given statuses: "m" met, "x" missed, "p" pending, "s" skipped. */
function calendar(codes: string): PeriodState[] {
  const byCode: Record<string, PeriodStatus> = { m: "met", x: "missed", p: "pending", s: "skipped" };
  return [...codes].map((code, i) => {
    const date = addDays("2026-03-01", i);
    const status = byCode[code];
    if (!status) throw new Error(`unknown code ${code}`);
    return { startDate: date, endDate: date, value: 0, status };
  });
}

describe("streaks (shared/domain/streaks.ts)", () => {
  it("has no streak before anything is met", () => {
    expect(streakOf([])).to.deep.equal({ current: 0, longest: 0, lastMetDate: null });
    expect(streakOf(calendar("xxp"))).to.deep.equal({ current: 0, longest: 0, lastMetDate: null });
  });

  it("counts consecutive met periods ending at the latest met one", () => {
    expect(streakOf(calendar("xmmm"))).to.deep.equal({ current: 3, longest: 3, lastMetDate: "2026-03-04" });
  });

  it("a pending today does not break the streak", () => {
    expect(streakOf(calendar("mmp"))).to.deep.equal({ current: 2, longest: 2, lastMetDate: "2026-03-02" });
  });

  it("a period extends the streak as soon as it is met, before it ends", () => {
    expect(streakOf(calendar("mmm")).current).to.equal(3);
  });

  it("a skipped day between two met days neither counts nor breaks", () => {
    expect(streakOf(calendar("msm"))).to.deep.equal({ current: 2, longest: 2, lastMetDate: "2026-03-03" });
    expect(streakOf(calendar("mmss")).current).to.equal(2);
    expect(streakOf(calendar("ssmsm")).current).to.equal(2);
  });

  it("an ended, unmet, unskipped period after the latest met one makes current 0", () => {
    expect(streakOf(calendar("mmmx"))).to.deep.equal({ current: 0, longest: 3, lastMetDate: "2026-03-03" });
    expect(streakOf(calendar("mmmxsp"))).to.deep.equal({ current: 0, longest: 3, lastMetDate: "2026-03-03" });
  });

  it("longest is the longest run ever", () => {
    expect(streakOf(calendar("mmmmxmmxmp"))).to.deep.equal({
      current: 1,
      longest: 4,
      lastMetDate: "2026-03-09",
    });
    expect(streakOf(calendar("mxmsmmsmx")).longest).to.equal(4);
  });

  it("a limit period over the limit is missed at once and current is 0", () => {
    const limit = rulesOf({ pattern: "limit", startDate: "2026-03-01", limit: 2, period: "day" });
    const today = "2026-03-04";
    const states = ["2026-03-01", "2026-03-02", "2026-03-03", today].map((date) =>
      evaluatePeriod(limit, { startDate: date, endDate: date }, days({ [today]: 3, "2026-03-02": 1 }), today),
    );
    expect(states.map((s) => s.status)).to.deep.equal(["met", "met", "met", "missed"]);
    expect(streakOf(states)).to.deep.equal({ current: 0, longest: 3, lastMetDate: "2026-03-03" });
  });

  it("a limit period within the limit counts only once it has ended", () => {
    const limit = rulesOf({ pattern: "limit", startDate: "2026-03-01", limit: 2, period: "day" });
    const judge = (today: string) =>
      ["2026-03-01", "2026-03-02"]
        .filter((date) => date <= today)
        .map((date) =>
          evaluatePeriod(limit, { startDate: date, endDate: date }, days({ "2026-03-02": 2 }), today),
        );
    expect(streakOf(judge("2026-03-02")).current).to.equal(1); // the 2nd is still pending
    expect(streakOf(judge("2026-03-03")).current).to.equal(2); // now it has ended within the limit
  });

  describe("milestones", () => {
    it("are at 3, 7, 14, 30, 60, 100, 200 and 365 periods", () => {
      expect(STREAK_MILESTONES).to.deep.equal([3, 7, 14, 30, 60, 100, 200, 365]);
    });

    it("lists the milestones crossed going from one current streak to the next", () => {
      expect(milestonesReached(2, 3)).to.deep.equal([3]);
      expect(milestonesReached(3, 4)).to.deep.equal([]);
      expect(milestonesReached(0, 15)).to.deep.equal([3, 7, 14]); // a backdated fill
      expect(milestonesReached(364, 365)).to.deep.equal([365]);
      expect(milestonesReached(365, 400)).to.deep.equal([]);
      expect(milestonesReached(10, 2)).to.deep.equal([]); // a streak going down crosses nothing
    });
  });
});
