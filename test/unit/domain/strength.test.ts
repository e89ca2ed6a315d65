import { expect } from "chai";
import { addDays } from "../../../shared/domain/calendar.ts";
import type { PeriodState, PeriodStatus } from "../../../shared/domain/goal-types.ts";
import { foldStrength, strengthMultiplier } from "../../../shared/domain/strength.ts";
import { rulesOf } from "./support.ts";

const daily = rulesOf({ pattern: "daily", startDate: "2026-01-01" });

function dayStates(statuses: PeriodStatus[], from = "2026-01-01"): PeriodState[] {
  return statuses.map((status, i) => {
    const date = addDays(from, i);
    return { startDate: date, endDate: date, value: 0, status };
  });
}
const met = (n: number): PeriodStatus[] => Array.from({ length: n }, () => "met");
const round4 = (x: number) => Math.round(x * 10_000) / 10_000;

describe("habit strength (shared/domain/strength.ts)", () => {
  it("is 0.6557 after twenty met days in a row on a daily goal, and 0.0519 after one", () => {
    expect(round4(foldStrength(daily, 0, dayStates(met(20))))).to.equal(0.6557);
    expect(round4(foldStrength(daily, 0, dayStates(met(1))))).to.equal(0.0519);
  });

  it("keeps a half-life of 13 days on a daily goal: m = 0.5^(1/13)", () => {
    expect(strengthMultiplier(daily, { startDate: "2026-01-01", endDate: "2026-01-01" })).to.equal(
      0.5 ** (1 / 13),
    );
    // after 13 met days, half of the way to 1
    expect(foldStrength(daily, 0, dayStates(met(13)))).to.be.closeTo(0.5, 1e-12);
  });

  it("multiplies by m on a missed period (c = 0), and forgives a single miss", () => {
    const m = 0.5 ** (1 / 13);
    const twenty = foldStrength(daily, 0, dayStates(met(20)));
    const withMiss = foldStrength(daily, 0, dayStates([...met(20), "missed"]));
    expect(withMiss).to.equal(twenty * m);
    expect(withMiss).to.be.above(0.6);
  });

  it("leaves skipped and pending periods out", () => {
    const plain = foldStrength(daily, 0, dayStates(met(5)));
    expect(
      foldStrength(daily, 0, dayStates(["met", "skipped", "met", "met", "skipped", "met", "met", "pending"])),
    ).to.equal(plain);
  });

  it("counts a met current period at once, but a missed one only after it has ended", () => {
    const limit = rulesOf({ pattern: "limit", startDate: "2026-01-01", limit: 1, period: "day" });
    const states = dayStates(["met", "met", "missed"]); // the 3rd is today, already over the limit
    const twoMet = foldStrength(limit, 0, states.slice(0, 2));
    expect(foldStrength(limit, 0, states, "2026-01-03")).to.equal(twoMet);
    expect(foldStrength(limit, 0, states, "2026-01-04")).to.equal(twoMet * 0.5 ** (1 / 13));
    expect(foldStrength(limit, 0, dayStates(["met", "met", "met"]), "2026-01-03")).to.equal(
      foldStrength(limit, 0, dayStates(met(3))),
    );
  });

  it("uses f = 1 for target goals and day limits, 1/7 for week limits", () => {
    const day = { startDate: "2026-01-05", endDate: "2026-01-05" };
    const week = { startDate: "2026-01-05", endDate: "2026-01-11" };
    const target = rulesOf({ pattern: "target", startDate: "2026-01-01", endDate: "2026-03-01", target: 9 });
    const dayLimit = rulesOf({ pattern: "limit", startDate: "2026-01-01", limit: 1, period: "day" });
    const weekLimit = rulesOf({ pattern: "limit", startDate: "2026-01-01", limit: 1, period: "week" });
    expect(strengthMultiplier(target, day)).to.equal(0.5 ** (1 / 13));
    expect(strengthMultiplier(dayLimit, day)).to.equal(0.5 ** (1 / 13));
    expect(strengthMultiplier(weekLimit, week)).to.equal(0.5 ** ((7 * Math.sqrt(1 / 7)) / 13));
  });

  it("uses f = timesPerPeriod / period length for frequency goals (7 days, or the month's days)", () => {
    const weekly = rulesOf({
      pattern: "frequency",
      startDate: "2026-01-01",
      timesPerPeriod: 3,
      period: "week",
    });
    const monthly = rulesOf({
      pattern: "frequency",
      startDate: "2026-01-01",
      timesPerPeriod: 3,
      period: "month",
    });
    expect(strengthMultiplier(weekly, { startDate: "2026-01-05", endDate: "2026-01-11" })).to.equal(
      0.5 ** ((7 * Math.sqrt(3 / 7)) / 13),
    );
    expect(strengthMultiplier(monthly, { startDate: "2026-02-01", endDate: "2026-02-28" })).to.equal(
      0.5 ** ((28 * Math.sqrt(3 / 28)) / 13),
    );
    expect(strengthMultiplier(monthly, { startDate: "2026-03-01", endDate: "2026-03-31" })).to.equal(
      0.5 ** ((31 * Math.sqrt(3 / 31)) / 13),
    );
  });

  it("uses the days inside the goal for L in a clipped first period, the whole period for f", () => {
    // Starting Thursday 2026-01-01: the first Monday week has 4 days.
    const weekly = rulesOf({
      pattern: "frequency",
      startDate: "2026-01-01",
      timesPerPeriod: 3,
      period: "week",
    });
    expect(strengthMultiplier(weekly, { startDate: "2026-01-01", endDate: "2026-01-04" })).to.equal(
      0.5 ** ((4 * Math.sqrt(3 / 7)) / 13),
    );
  });

  it("folds from a given start", () => {
    const first = foldStrength(daily, 0, dayStates(met(10)));
    expect(foldStrength(daily, first, dayStates(met(10), "2026-01-11"))).to.equal(
      foldStrength(daily, 0, dayStates(met(20))),
    );
  });
});
