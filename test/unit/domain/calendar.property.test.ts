import { expect } from "chai";
import fc from "fast-check";
import { localDateOf, startOfLocalDay } from "../../../shared/domain/calendar.ts";

const ZONES = [
  "UTC", // answered without Intl by the code under test; the reference below still asks Intl
  "Etc/UTC",
  "America/New_York",
  "Europe/London",
  "Asia/Kolkata",
  "Asia/Kathmandu",
  "Australia/Lord_Howe",
  "Pacific/Kiritimati",
  "Pacific/Pago_Pago",
  "Pacific/Apia",
];
const FROM = Date.UTC(1970, 0, 1);
const TO = Date.UTC(2100, 11, 31);
const RUNS = 3000;

/** The straightforward reading: the wall clock from a differently built formatter, minus dayStartHour hours. */
const formats = new Map<string, Intl.DateTimeFormat>();
function wallClockMs(instant: number, zone: string): number {
  let format = formats.get(zone);
  if (!format) {
    format = new Intl.DateTimeFormat("sv-SE", {
      timeZone: zone,
      year: "numeric",
      month: "2-digit",
      day: "2-digit",
      hour: "2-digit",
      minute: "2-digit",
      second: "2-digit",
      hourCycle: "h23",
    });
    formats.set(zone, format);
  }
  const whole = Math.floor(instant / 1000) * 1000;
  return new Date(`${format.format(whole).replace(" ", "T")}Z`).getTime() + (instant - whole); // "2026-03-08 01:59:59"
}

function referenceLocalDate(instant: number, zone: string, dayStartHour: number): string {
  return new Date(wallClockMs(instant, zone) - dayStartHour * 3_600_000).toISOString().slice(0, 10);
}

const referenceOffset = (instant: number, zone: string): number => wallClockMs(instant, zone) - instant;

/** Every change of UTC offset in 1970..2100 in the zone (found weekly, then to the second). */
function transitionsOf(zone: string): number[] {
  const found: number[] = [];
  const WEEK = 7 * 86_400_000;
  for (let t = FROM; t < TO; t += WEEK) {
    if (referenceOffset(t, zone) === referenceOffset(t + WEEK, zone)) continue;
    let lo = t;
    let hi = t + WEEK;
    while (hi - lo > 1000) {
      const mid = lo + Math.floor((hi - lo) / 2000) * 1000;
      if (referenceOffset(mid, zone) === referenceOffset(lo, zone)) lo = mid;
      else hi = mid;
    }
    found.push(hi);
  }
  return found;
}

const zone = fc.constantFrom(...ZONES);
const hour = fc.integer({ min: 0, max: 23 });
const uniformInstant = fc.integer({ min: FROM, max: TO });
/** Half the cases within three hours of a DST change (or Samoa's and Kiritimati's jumps), with its zone. */
const zonedInstant: fc.Arbitrary<[number, string]> = fc.oneof(
  fc.tuple(uniformInstant, zone),
  fc
    .constantFrom(...ZONES.flatMap((tz) => transitionsOf(tz).map((t): [number, string] => [t, tz])))
    .chain(([t, tz]) =>
      fc.tuple(fc.integer({ min: t - 3 * 3_600_000, max: t + 3 * 3_600_000 }), fc.constant(tz)),
    ),
);

describe("the calendar, property-based (shared/domain/calendar.ts)", () => {
  it(`localDateOf agrees with a straightforward reference for random instants 1970..2100 (${RUNS} cases)`, () => {
    fc.assert(
      fc.property(zonedInstant, hour, ([at, tz], dayStartHour) => {
        expect(localDateOf(new Date(at), tz, dayStartHour)).to.equal(
          referenceLocalDate(at, tz, dayStartHour),
        );
      }),
      { numRuns: RUNS },
    );
  });

  it(`localDateOf never goes backwards as the instant moves forward (${RUNS} cases)`, () => {
    // Pairs close together, around offset changes, are where it could go wrong.
    const step = fc.oneof(
      fc.integer({ min: 0, max: 3_600_000 }),
      fc.integer({ min: 0, max: 2 * 86_400_000 }),
    );
    fc.assert(
      fc.property(zonedInstant, step, hour, ([at, tz], delta, dayStartHour) => {
        const earlier = localDateOf(new Date(at), tz, dayStartHour);
        const later = localDateOf(new Date(at + delta), tz, dayStartHour);
        expect(earlier <= later, `${earlier} then ${later}`).to.equal(true);
      }),
      { numRuns: RUNS },
    );
  });

  it(`every instant lies at or after the start of its own local day, and before the next one (${RUNS} cases)`, () => {
    fc.assert(
      fc.property(zonedInstant, hour, ([at, tz], dayStartHour) => {
        const date = localDateOf(new Date(at), tz, dayStartHour);
        expect(startOfLocalDay(date, tz, dayStartHour).getTime()).to.be.at.most(at);
        const next = new Date(Date.parse(`${date}T00:00:00Z`) + 86_400_000).toISOString().slice(0, 10);
        expect(startOfLocalDay(next, tz, dayStartHour).getTime()).to.be.above(at);
      }),
      { numRuns: RUNS },
    );
  });
});
