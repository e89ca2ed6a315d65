import { expect } from "chai";
import {
  addDays,
  compareDates,
  dayOfWeek,
  daysBetween,
  isLocalDate,
  localDateOf,
  maxDate,
  minDate,
  periodContaining,
  periodsBetween,
  startOfLocalDay,
} from "../../../shared/domain/calendar.ts";

const at = (iso: string): Date => new Date(iso);
const day = (iso: string, zone: string, dayStartHour: number): string =>
  localDateOf(at(iso), zone, dayStartHour);
const start = (date: string, zone: string, dayStartHour: number): string =>
  startOfLocalDay(date, zone, dayStartHour).toISOString();

describe("the calendar (shared/domain/calendar.ts)", () => {
  describe("localDateOf", () => {
    it("follows the contract's example: with dayStartHour 4, 02:30 local on the 21st belongs to the 20th", () => {
      // Paris is UTC+1 in March before the 29th: 02:30 local is 01:30Z.
      expect(day("2026-03-21T01:30:00Z", "Europe/Paris", 4)).to.equal("2026-03-20");
      expect(day("2026-03-21T02:59:59.999Z", "Europe/Paris", 4)).to.equal("2026-03-20");
      expect(day("2026-03-21T03:00:00Z", "Europe/Paris", 4)).to.equal("2026-03-21");
      expect(day("2026-03-21T01:30:00Z", "Europe/Paris", 0)).to.equal("2026-03-21");
    });

    it("uses the zone's own date, not UTC's", () => {
      expect(day("2026-01-10T23:30:00Z", "UTC", 0)).to.equal("2026-01-10");
      expect(day("2026-01-10T23:30:00Z", "Europe/Paris", 0)).to.equal("2026-01-11");
      expect(day("2026-01-11T03:30:00Z", "America/New_York", 0)).to.equal("2026-01-10");
    });

    it("handles the New York spring-forward gap (02:00 EST → 03:00 EDT on 2026-03-08)", () => {
      // 06:59:59Z is 01:59:59 EST, 07:00Z is 03:00 EDT.
      for (const hour of [0, 1])
        expect(day("2026-03-08T06:59:59Z", "America/New_York", hour)).to.equal("2026-03-08");
      expect(day("2026-03-08T06:59:59Z", "America/New_York", 2)).to.equal("2026-03-07");
      expect(day("2026-03-08T07:00:00Z", "America/New_York", 2)).to.equal("2026-03-08");
      expect(day("2026-03-08T07:00:00Z", "America/New_York", 3)).to.equal("2026-03-08");
      expect(day("2026-03-08T06:59:59Z", "America/New_York", 3)).to.equal("2026-03-07");
    });

    it("handles the New York fall-back overlap (01:00–02:00 happens twice on 2026-11-01)", () => {
      const firstHalfPast = "2026-11-01T05:30:00Z"; // 01:30 EDT
      const secondHalfPast = "2026-11-01T06:30:00Z"; // 01:30 EST
      for (const instant of [firstHalfPast, secondHalfPast]) {
        expect(day(instant, "America/New_York", 0)).to.equal("2026-11-01");
        expect(day(instant, "America/New_York", 1)).to.equal("2026-11-01");
        expect(day(instant, "America/New_York", 2)).to.equal("2026-10-31");
        expect(day(instant, "America/New_York", 3)).to.equal("2026-10-31");
      }
    });

    it("handles London's gap (01:00 GMT → 02:00 BST on 2026-03-29) and overlap (2026-10-25)", () => {
      expect(day("2026-03-29T00:59:59Z", "Europe/London", 1)).to.equal("2026-03-28");
      expect(day("2026-03-29T01:00:00Z", "Europe/London", 1)).to.equal("2026-03-29"); // 02:00 BST
      expect(day("2026-03-29T01:00:00Z", "Europe/London", 2)).to.equal("2026-03-29");
      expect(day("2026-03-29T01:00:00Z", "Europe/London", 3)).to.equal("2026-03-28");
      // 00:30Z is 01:30 BST, 01:30Z is 01:30 GMT: the same wall time, the same date.
      for (const instant of ["2026-10-25T00:30:00Z", "2026-10-25T01:30:00Z"]) {
        expect(day(instant, "Europe/London", 1)).to.equal("2026-10-25");
        expect(day(instant, "Europe/London", 2)).to.equal("2026-10-24");
      }
    });

    it("handles Lord Howe's half-hour DST (02:00 → 02:30 in October, 02:00 → 01:30 in April)", () => {
      expect(day("2026-10-03T15:29:59Z", "Australia/Lord_Howe", 2)).to.equal("2026-10-03"); // 01:59:59 +10:30
      expect(day("2026-10-03T15:30:00Z", "Australia/Lord_Howe", 2)).to.equal("2026-10-04"); // 02:30 +11
      expect(day("2026-04-04T14:59:59Z", "Australia/Lord_Howe", 2)).to.equal("2026-04-04"); // 01:59:59 +11
      expect(day("2026-04-04T15:00:00Z", "Australia/Lord_Howe", 2)).to.equal("2026-04-04"); // 01:30 +10:30
      expect(day("2026-04-04T15:30:00Z", "Australia/Lord_Howe", 2)).to.equal("2026-04-05"); // 02:00 +10:30
    });

    it("handles the half-hour and 45-minute offsets of Kolkata (+5:30) and Kathmandu (+5:45)", () => {
      expect(day("2026-01-10T18:29:59Z", "Asia/Kolkata", 0)).to.equal("2026-01-10");
      expect(day("2026-01-10T18:30:00Z", "Asia/Kolkata", 0)).to.equal("2026-01-11");
      expect(day("2026-01-10T22:29:59Z", "Asia/Kolkata", 4)).to.equal("2026-01-10");
      expect(day("2026-01-10T22:30:00Z", "Asia/Kolkata", 4)).to.equal("2026-01-11");
      expect(day("2026-01-10T18:14:59Z", "Asia/Kathmandu", 0)).to.equal("2026-01-10");
      expect(day("2026-01-10T18:15:00Z", "Asia/Kathmandu", 0)).to.equal("2026-01-11");
    });

    it("puts one instant two dates apart in Kiritimati (+14) and Pago Pago (−11)", () => {
      expect(day("2026-06-15T10:30:00Z", "Pacific/Kiritimati", 0)).to.equal("2026-06-16");
      expect(day("2026-06-15T10:30:00Z", "Pacific/Pago_Pago", 0)).to.equal("2026-06-14");
    });

    it("knows that Samoa skipped 2011-12-30: no instant has that date when days start at midnight", () => {
      expect(day("2011-12-30T09:59:59.999Z", "Pacific/Apia", 0)).to.equal("2011-12-29"); // 23:59:59 −10
      expect(day("2011-12-30T10:00:00Z", "Pacific/Apia", 0)).to.equal("2011-12-31"); // 00:00 +14
      // With days starting at 04:00, the first four hours of the 31st are the (short) "30th".
      expect(day("2011-12-30T10:00:00Z", "Pacific/Apia", 4)).to.equal("2011-12-30");
    });

    it("rejects a dayStartHour outside 0..23 and an invalid instant", () => {
      expect(() => localDateOf(at("2026-01-01T00:00:00Z"), "UTC", 24)).to.throw(RangeError);
      expect(() => localDateOf(at("2026-01-01T00:00:00Z"), "UTC", 1.5)).to.throw(RangeError);
      expect(() => localDateOf(new Date(Number.NaN), "UTC", 0)).to.throw(RangeError);
    });
  });

  describe("startOfLocalDay", () => {
    it("is the instant the wall clock shows dayStartHour:00 on that date", () => {
      expect(start("2026-03-21", "Europe/Paris", 4)).to.equal("2026-03-21T03:00:00.000Z");
      expect(start("2026-01-11", "Asia/Kathmandu", 0)).to.equal("2026-01-10T18:15:00.000Z");
      expect(start("2026-06-16", "Pacific/Kiritimati", 0)).to.equal("2026-06-15T10:00:00.000Z");
    });

    it("takes the first instant after a DST gap when the wall time does not exist", () => {
      expect(start("2026-03-08", "America/New_York", 2)).to.equal("2026-03-08T07:00:00.000Z"); // 03:00 EDT
      expect(start("2026-03-08", "America/New_York", 3)).to.equal("2026-03-08T07:00:00.000Z");
      expect(start("2026-03-29", "Europe/London", 1)).to.equal("2026-03-29T01:00:00.000Z"); // 02:00 BST
      expect(start("2026-10-04", "Australia/Lord_Howe", 2)).to.equal("2026-10-03T15:30:00.000Z"); // 02:30 +11
    });

    it("takes the earlier instant when the wall time happens twice", () => {
      expect(start("2026-11-01", "America/New_York", 1)).to.equal("2026-11-01T05:00:00.000Z"); // 01:00 EDT
      expect(start("2026-10-25", "Europe/London", 1)).to.equal("2026-10-25T00:00:00.000Z"); // 01:00 BST
      expect(start("2026-04-05", "Australia/Lord_Howe", 1)).to.equal("2026-04-04T14:00:00.000Z"); // 01:00 +11
    });

    it("gives Samoa's missing 2011-12-30 the start of the 31st", () => {
      expect(start("2011-12-30", "Pacific/Apia", 0)).to.equal("2011-12-30T10:00:00.000Z");
      expect(start("2011-12-31", "Pacific/Apia", 0)).to.equal("2011-12-30T10:00:00.000Z");
      expect(start("2011-12-29", "Pacific/Apia", 0)).to.equal("2011-12-29T10:00:00.000Z");
    });

    const zones: [string, number][] = [
      ["UTC", 2026],
      ["America/New_York", 2026],
      ["Europe/London", 2026],
      ["Asia/Kolkata", 2026],
      ["Asia/Kathmandu", 2026],
      ["Australia/Lord_Howe", 2026],
      ["Pacific/Kiritimati", 2026],
      ["Pacific/Pago_Pago", 2026],
      ["Pacific/Apia", 2011],
    ];
    for (const [zone, year] of zones) {
      it(`round-trips with localDateOf for every date of ${year} and every dayStartHour in ${zone}`, () => {
        for (let hour = 0; hour < 24; hour++) {
          for (let date = `${year}-01-01`; date <= `${year}-12-31`; date = addDays(date, 1)) {
            const first = startOfLocalDay(date, zone, hour);
            const dateThere = localDateOf(first, zone, hour);
            const missing = zone === "Pacific/Apia" && hour === 0 && date === "2011-12-30";
            expect(dateThere, `${date} ${hour}h`).to.equal(missing ? "2011-12-31" : date);
            // …and it is the first such instant: the one before belongs to an earlier date.
            const before = localDateOf(new Date(first.getTime() - 1), zone, hour);
            expect(before < date, `${date} ${hour}h: ${before}`).to.equal(true);
          }
        }
      });
    }
  });

  describe("dates", () => {
    it("recognises real calendar dates only", () => {
      expect(isLocalDate("2026-02-28")).to.equal(true);
      expect(isLocalDate("2024-02-29")).to.equal(true);
      expect(isLocalDate("2000-02-29")).to.equal(true);
      for (const bad of [
        "2026-02-29",
        "1900-02-29",
        "2026-02-30",
        "2026-04-31",
        "2026-13-01",
        "2026-00-10",
      ]) {
        expect(isLocalDate(bad), bad).to.equal(false);
      }
      for (const bad of ["2026-1-01", "2026-01-1", "20260101", "2026-01-01T00:00", " 2026-01-01", ""]) {
        expect(isLocalDate(bad), bad).to.equal(false);
      }
    });

    it("adds days across months, leap days and years", () => {
      expect(addDays("2026-01-31", 1)).to.equal("2026-02-01");
      expect(addDays("2024-02-28", 1)).to.equal("2024-02-29");
      expect(addDays("2026-02-28", 1)).to.equal("2026-03-01");
      expect(addDays("2026-12-31", 1)).to.equal("2027-01-01");
      expect(addDays("2027-01-01", -1)).to.equal("2026-12-31");
      expect(addDays("2026-03-01", -366)).to.equal("2025-02-28");
      expect(addDays("2026-03-01", 0)).to.equal("2026-03-01");
    });

    it("counts days between dates (to − from) and orders them", () => {
      expect(daysBetween("2026-01-01", "2026-12-31")).to.equal(364);
      expect(daysBetween("2024-01-01", "2025-01-01")).to.equal(366);
      expect(daysBetween("2026-03-10", "2026-03-01")).to.equal(-9);
      expect(compareDates("2026-03-01", "2026-03-02")).to.be.below(0);
      expect(compareDates("2026-03-02", "2026-03-02")).to.equal(0);
      expect(compareDates("2026-12-01", "2026-03-02")).to.be.above(0);
      expect(minDate("2026-03-01", "2025-12-31")).to.equal("2025-12-31");
      expect(maxDate("2026-03-01", "2025-12-31")).to.equal("2026-03-01");
      expect(dayOfWeek("2026-11-22")).to.equal(0); // a Sunday
      expect(dayOfWeek("1970-01-01")).to.equal(4); // a Thursday
    });
  });

  describe("periods", () => {
    it("has days of one date", () => {
      expect(periodContaining("2026-03-05", "day", "monday")).to.deep.equal({
        startDate: "2026-03-05",
        endDate: "2026-03-05",
      });
    });

    it("starts weeks on Monday or on Sunday as the user chose", () => {
      // 2026-11-22 is a Sunday.
      expect(periodContaining("2026-11-22", "week", "monday")).to.deep.equal({
        startDate: "2026-11-16",
        endDate: "2026-11-22",
      });
      expect(periodContaining("2026-11-22", "week", "sunday")).to.deep.equal({
        startDate: "2026-11-22",
        endDate: "2026-11-28",
      });
      expect(periodContaining("2026-11-23", "week", "monday").startDate).to.equal("2026-11-23");
      expect(periodContaining("2026-11-21", "week", "sunday").startDate).to.equal("2026-11-15");
    });

    it("has weeks that cross month and year boundaries", () => {
      expect(periodContaining("2026-01-01", "week", "monday")).to.deep.equal({
        startDate: "2025-12-29",
        endDate: "2026-01-04",
      });
      expect(periodContaining("2026-01-01", "week", "sunday")).to.deep.equal({
        startDate: "2025-12-28",
        endDate: "2026-01-03",
      });
    });

    it("has calendar months of 28, 29, 30 and 31 days", () => {
      const month = (date: string) => periodContaining(date, "month", "monday");
      expect(month("2026-02-14")).to.deep.equal({ startDate: "2026-02-01", endDate: "2026-02-28" });
      expect(month("2024-02-29")).to.deep.equal({ startDate: "2024-02-01", endDate: "2024-02-29" });
      expect(month("2026-04-01")).to.deep.equal({ startDate: "2026-04-01", endDate: "2026-04-30" });
      expect(month("2026-12-31")).to.deep.equal({ startDate: "2026-12-01", endDate: "2026-12-31" });
    });

    it("lists every period overlapping a range, ascending, across a year boundary", () => {
      expect(periodsBetween("2025-12-20", "2026-01-05", "week", "monday")).to.deep.equal([
        { startDate: "2025-12-15", endDate: "2025-12-21" },
        { startDate: "2025-12-22", endDate: "2025-12-28" },
        { startDate: "2025-12-29", endDate: "2026-01-04" },
        { startDate: "2026-01-05", endDate: "2026-01-11" },
      ]);
      expect(
        periodsBetween("2025-11-30", "2026-02-01", "month", "sunday").map((p) => p.startDate),
      ).to.deep.equal(["2025-11-01", "2025-12-01", "2026-01-01", "2026-02-01"]);
      expect(
        periodsBetween("2024-02-27", "2024-03-01", "day", "monday").map((p) => p.startDate),
      ).to.deep.equal(["2024-02-27", "2024-02-28", "2024-02-29", "2024-03-01"]);
      expect(periodsBetween("2026-03-02", "2026-03-01", "day", "monday")).to.deep.equal([]);
    });
  });
});
