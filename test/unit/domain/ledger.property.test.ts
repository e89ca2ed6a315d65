/**
 * The proof of equality, property-based: for random goals and random sequences of operations (logs, backdated
 * logs, edits, deletes, skips, un-skips, days passing), the snapshot kept incrementally through
 * `applyDayChanges` / `viewAt` — and stored as JSON between operations, as the service does — deep-equals a
 * full `recompute` after every single operation.
 */
import { expect } from "chai";
import fc from "fast-check";
import { addDays } from "../../../shared/domain/calendar.ts";
import type { GoalRules, LocalDate } from "../../../shared/domain/goal-types.ts";
import { applyDayChanges, recompute, viewAt, type LedgerSnapshot } from "../../../shared/domain/ledger.ts";
import { MemoryStore, rulesOf } from "./support.ts";

const RUNS_PER_PATTERN = 1000;
const EPOCH = "2023-10-01"; // today is drawn from the ~20 months after it: leap day 2024-02-29, two new years

type Op =
  | { kind: "log"; back: number; quantity: number }
  | { kind: "delete"; pick: number }
  | { kind: "edit"; pick: number; quantity: number; moveBack: number | null }
  | { kind: "skip"; offset: number }
  | { kind: "unskip"; pick: number }
  | { kind: "advance"; days: number; lazy: boolean };

const quantity = fc.constantFrom(0.5, 1, 1, 1, 2, 3);
/** Days back from today: mostly recent (this week / month), up to ~120. */
const back = fc.oneof(
  fc.integer({ min: 0, max: 6 }),
  fc.integer({ min: 0, max: 35 }),
  fc.integer({ min: 0, max: 120 }),
);

const op: fc.Arbitrary<Op> = fc.oneof(
  { weight: 4, arbitrary: fc.record({ kind: fc.constant("log" as const), back, quantity }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant("delete" as const), pick: fc.nat() }) },
  {
    weight: 1,
    arbitrary: fc.record({
      kind: fc.constant("edit" as const),
      pick: fc.nat(),
      quantity,
      moveBack: fc.option(back, { nil: null }),
    }),
  },
  // skips: past or planned (up to 10 days ahead)
  {
    weight: 1,
    arbitrary: fc.record({ kind: fc.constant("skip" as const), offset: fc.integer({ min: -120, max: 10 }) }),
  },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant("unskip" as const), pick: fc.nat() }) },
  {
    weight: 2,
    arbitrary: fc.record({
      kind: fc.constant("advance" as const),
      days: fc.integer({ min: 0, max: 10 }),
      lazy: fc.boolean(),
    }),
  },
);

interface Scenario {
  today: LocalDate;
  rules: GoalRules;
  /** Day i before today is logged (1..3) when rolls[i] < density: habits kept loosely or closely. */
  rolls: number[];
  density: number;
  skips: number[];
  ops: Op[];
}

type Fields = Partial<GoalRules>;

function scenario(patternFields: fc.Arbitrary<Fields>, endRequired = false): fc.Arbitrary<Scenario> {
  return fc
    .record({
      todayOffset: fc.integer({ min: 0, max: 600 }),
      startBack: fc.integer({ min: -5, max: 150 }), // start up to 150 days ago, or up to 5 days ahead
      length: endRequired
        ? fc.integer({ min: 1, max: 200 })
        : fc.option(fc.integer({ min: 1, max: 200 }), { nil: null }),
      weekStart: fc.constantFrom("monday" as const, "sunday" as const),
      fields: patternFields,
      rolls: fc.array(fc.integer({ min: 0, max: 99 }), { maxLength: 160 }),
      density: fc.constantFrom(0, 30, 70, 90, 100),
      skips: fc.array(fc.integer({ min: -160, max: 10 }), { maxLength: 6 }),
      ops: fc.array(op, { minLength: 1, maxLength: 12 }),
    })
    .map(({ todayOffset, startBack, length, weekStart, fields, rolls, density, skips, ops }) => {
      const today = addDays(EPOCH, todayOffset);
      const startDate = addDays(today, -startBack);
      const endDate = length === null ? null : addDays(startDate, length);
      const rules = rulesOf({ pattern: "daily", startDate, endDate, weekStart, ...fields });
      return { today, rules, rolls, density, skips, ops };
    });
}

/** The activities and skips behind a MemoryStore, kept in step with it. */
class World {
  readonly store = new MemoryStore();
  readonly activities: { date: LocalDate; quantity: number }[] = [];
  readonly skipped = new Set<LocalDate>();

  private sync(date: LocalDate): void {
    const total = this.activities.filter((a) => a.date === date).reduce((sum, a) => sum + a.quantity, 0);
    this.store.put(date, total, this.skipped.has(date));
  }

  log(date: LocalDate, quantity: number): LocalDate[] {
    this.activities.push({ date, quantity });
    this.sync(date);
    return [date];
  }

  remove(pick: number): LocalDate[] {
    if (this.activities.length === 0) return [];
    const [removed] = this.activities.splice(pick % this.activities.length, 1);
    if (!removed) return [];
    this.sync(removed.date);
    return [removed.date];
  }

  edit(pick: number, quantity: number, date: LocalDate | null): LocalDate[] {
    const activity = this.activities[pick % Math.max(1, this.activities.length)];
    if (!activity) return [];
    const before = activity.date;
    activity.quantity = quantity;
    activity.date = date ?? before;
    this.sync(before);
    this.sync(activity.date);
    return [before, activity.date];
  }

  skip(date: LocalDate): LocalDate[] {
    this.skipped.add(date);
    this.sync(date);
    return [date];
  }

  unskip(pick: number): LocalDate[] {
    const dates = [...this.skipped];
    const date = dates[pick % Math.max(1, dates.length)];
    if (date === undefined) return [];
    this.skipped.delete(date);
    this.sync(date);
    return [date];
  }
}

async function run({ today: firstDay, rules, rolls, density, skips, ops }: Scenario): Promise<void> {
  const world = new World();
  let today = firstDay;
  rolls.forEach((roll, i) => {
    if (roll < density) world.log(addDays(today, -i), 1 + (roll % 3));
  });
  for (const offset of skips) world.skip(addDays(today, offset));
  // Stored as JSON between operations, like the service's document.
  let stored: string = JSON.stringify(await recompute(rules, world.store, today));
  for (const [index, step] of ops.entries()) {
    const snapshot = JSON.parse(stored) as LedgerSnapshot;
    let next: LedgerSnapshot;
    if (step.kind === "advance") {
      today = addDays(today, step.days);
      next = await viewAt(rules, snapshot, world.store, today);
      // lazy: keep the old snapshot, so that the next change also brings it forward in time
      if (!step.lazy) stored = JSON.stringify(next);
    } else {
      const changed =
        step.kind === "log"
          ? world.log(addDays(today, -step.back), step.quantity)
          : step.kind === "delete"
            ? world.remove(step.pick)
            : step.kind === "edit"
              ? world.edit(
                  step.pick,
                  step.quantity,
                  step.moveBack === null ? null : addDays(today, -step.moveBack),
                )
              : step.kind === "skip"
                ? world.skip(addDays(today, step.offset))
                : world.unskip(step.pick);
      next = await applyDayChanges(rules, snapshot, changed, world.store, today);
      stored = JSON.stringify(next);
    }
    expect(next, `after operation ${index} (${JSON.stringify(step)}) on ${today}`).to.deep.equal(
      await recompute(rules, world.store, today),
    );
  }
}

const perDay = fc.constantFrom(1, 1, 2, 0.5);
const PATTERNS: [string, fc.Arbitrary<Fields>, boolean][] = [
  ["daily", fc.record({ pattern: fc.constant("daily" as const), target: perDay }), false],
  [
    "frequency per week",
    fc.record({
      pattern: fc.constant("frequency" as const),
      period: fc.constant("week" as const),
      timesPerPeriod: fc.oneof(fc.integer({ min: 1, max: 3 }), fc.integer({ min: 1, max: 9 })),
      target: perDay,
    }),
    false,
  ],
  [
    "frequency per month",
    fc.record({
      pattern: fc.constant("frequency" as const),
      period: fc.constant("month" as const),
      timesPerPeriod: fc.oneof(fc.integer({ min: 1, max: 4 }), fc.integer({ min: 1, max: 31 })),
      target: perDay,
    }),
    false,
  ],
  [
    "target",
    fc.record({ pattern: fc.constant("target" as const), target: fc.integer({ min: 1, max: 100 }) }),
    true,
  ],
  [
    "limit per day",
    fc.record({
      pattern: fc.constant("limit" as const),
      period: fc.constant("day" as const),
      limit: fc.integer({ min: 0, max: 4 }),
    }),
    false,
  ],
  [
    "limit per week",
    fc.record({
      pattern: fc.constant("limit" as const),
      period: fc.constant("week" as const),
      limit: fc.integer({ min: 0, max: 12 }),
    }),
    false,
  ],
];

describe("the incremental ledger equals a full recomputation, property-based (shared/domain/ledger.ts)", () => {
  for (const [name, fields, endRequired] of PATTERNS) {
    it(`${name}: after every operation, ${RUNS_PER_PATTERN} random goals and operation sequences`, async () => {
      await fc.assert(fc.asyncProperty(scenario(fields, endRequired), run), { numRuns: RUNS_PER_PATTERN });
    });
  }
});
