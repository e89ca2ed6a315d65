/**
 * The two storage operations that bench/cost-growth.ts's profiles show growing with stored data, timed
 * in isolation on the embedded backend (NedbStorage, the project's own models and ledger store):
 *
 * 1. `ledgerStoreFor(days, goalId).days(from, to)` (services/streak/ledger-store.ts), the range read the
 *    streak service does once per log and twice per goal read, against the number of `goal_days`
 *    documents of *other* goals in the collection, and of the goal itself.
 * 2. `activities.updateOne({_id, version}, {$set: {unpublished}})` (the outbox marker cleared in
 *    services/activity/activity.service.ts `propagate()`), against the number of activities of the user.
 *
 *   node bench/nedb-scaling.ts [--calls=300]
 */
import { mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { parseArgs } from "node:util";
import { NedbStorage } from "../shared/db/nedb.ts";
import { activities, type ActivityDoc } from "../services/activity/model.ts";
import { goalDays } from "../services/streak/model.ts";
import { ledgerStoreFor } from "../services/streak/ledger-store.ts";
import { median } from "./lib/stats.ts";

const { values: args } = parseArgs({ options: { calls: { type: "string", default: "300" } } });
const CALLS = Number(args.calls);
const DAY_MS = 24 * 60 * 60 * 1000;
const TODAY = Date.UTC(2026, 0, 1);
const dateBack = (back: number) => new Date(TODAY - back * DAY_MS).toISOString().slice(0, 10);

/** Median µs of `CALLS` sequential calls, after as many warm-up calls. */
async function time(call: () => Promise<unknown>): Promise<number> {
  for (let i = 0; i < CALLS; i++) await call();
  const samples: number[] = [];
  for (let i = 0; i < CALLS; i++) {
    const started = process.hrtime.bigint();
    await call();
    samples.push(Number(process.hrtime.bigint() - started) / 1000);
  }
  return median(samples);
}

async function withStorage<T>(run: (storage: NedbStorage) => Promise<T>): Promise<T> {
  const dir = await mkdtemp(path.join(os.tmpdir(), "goal-tracker-nedb-scaling-"));
  const storage = new NedbStorage(dir);
  try {
    return await run(storage);
  } finally {
    await storage.close();
    await rm(dir, { recursive: true, force: true });
  }
}

/** A 14-day range read (the progress pace window) of a goal with `own` day documents, next to `others`. */
async function rangeRead(own: number, others: number): Promise<number> {
  return withStorage(async (storage) => {
    const days = await storage.open(goalDays);
    const insertGoal = async (goalId: string, userId: string, count: number) => {
      for (let back = 1; back <= count; back++) {
        const date = dateBack(back);
        await days.insert({ _id: `${goalId}:${date}`, goalId, userId, date, total: 1, skipped: false });
      }
    };
    await insertGoal("measured", "user-measured", own);
    for (let g = 0; g * 1000 < others; g++) {
      await insertGoal(`other-${g}`, `user-${g}`, Math.min(1000, others - g * 1000));
    }
    const store = ledgerStoreFor(days, "measured");
    return time(() => store.days(dateBack(13), dateBack(0)));
  });
}

/** Clearing the outbox marker of one activity of a user who has `count` activities. */
async function outboxUpdate(count: number): Promise<number> {
  return withStorage(async (storage) => {
    const store = await storage.open(activities);
    let last: ActivityDoc | null = null;
    for (let i = 0; i < count; i++) {
      const at = new Date(TODAY - (count - i) * 60_000);
      last = await store.insert({
        _id: `a${String(i).padStart(8, "0")}`,
        userId: "user",
        goalId: "goal",
        quantity: 1,
        note: null,
        occurredAt: at,
        localDate: at.toISOString().slice(0, 10),
        milestoneId: null,
        createdAt: at,
        updatedAt: at,
        version: 1,
        deleted: false,
        unpublished: true,
      });
    }
    const target = last!;
    let flag = false;
    return time(() => {
      flag = !flag;
      return store.updateOne({ _id: target._id, version: 1 }, { $set: { unpublished: flag } });
    });
  });
}

const fmt = (us: number) => us.toFixed(0).padStart(7);

console.log(`NeDB scaling (median of ${CALLS} calls, µs), node ${process.version}, ${os.cpus().length} CPUs`);
console.log(
  "\nledgerStoreFor(days, goalId).days(today-13, today): goal_days documents of the goal / of others",
);
console.log(`  ${"own".padStart(7)} ${"others".padStart(7)} ${"µs".padStart(7)}`);
for (const [own, others] of [
  [10, 0],
  [1000, 0],
  [10, 1000],
  [10, 10_000],
  [10, 100_000],
  [1000, 100_000],
] as const) {
  console.log(`  ${fmt(own)} ${fmt(others)} ${fmt(await rangeRead(own, others))}`);
}
console.log("\nactivities.updateOne({_id, version}, {$set: {unpublished}}): activities of the user");
console.log(`  ${"count".padStart(7)} ${"µs".padStart(7)}`);
for (const count of [10, 1000, 10_000, 100_000]) {
  console.log(`  ${fmt(count)} ${fmt(await outboxUpdate(count))}`);
}
