/**
 * "Cost does not grow with history": logging an activity and reading a goal should cost the same on a
 * goal with 10 earlier activities (SMALL) as on one with 10,000 (LARGE, spread over ~1,000 days).
 *
 *   npm run bench:cost                          # embedded: `node index.ts`, one process
 *   npm run bench:cost -- --topology=cluster    # one process per service on NATS (nats://127.0.0.1:4222)
 *   npm run bench:cost -- --topology=both
 *   npm run bench:cost -- --cpu-prof            # the servers write V8 CPU profiles into bench/tmp/
 *
 * The server runs in its own process; this script is the load generator. Both goals live in one user
 * on one server and are measured in alternating rounds, so that they see the same machine conditions;
 * the figure that matters is the ratio LARGE / SMALL of the median latencies, measured in the same run.
 * A CONTROL goal (a copy of SMALL, alone on a second server whose store holds no large history) is
 * measured in the same rounds: LARGE / CONTROL also shows costs that grow with everything stored in a
 * collection rather than with one goal's history, which the SMALL-next-to-LARGE comparison cannot see.
 *
 * Writes bench/results/cost-growth-<YYYY-MM-DD>[-<topology>].json and prints a table. Exits 0 whatever
 * the ratios (1 only when the run itself failed).
 */
import { randomBytes } from "node:crypto";
import path from "node:path";
import { parseArgs } from "node:util";
import { Client } from "./lib/client.ts";
import { codeVersion, loadAverage, machineInfo, writeResults } from "./lib/run-info.ts";
import { round, summarize, type Summary, median } from "./lib/stats.ts";
import type { Operation, Role, Window } from "./lib/types.ts";
import { reachable } from "../scripts/ports.ts";
import { ROOT, type RunningSystem, startSystem, type Topology } from "./lib/systems.ts";

const TARGET_RATIO = 1.5;
const BULK_LIMIT = 500;
const DAY_MS = 24 * 60 * 60 * 1000;

const { values: args } = parseArgs({
  options: {
    topology: { type: "string", default: "embedded" },
    small: { type: "string", default: "10" },
    large: { type: "string", default: "10000" },
    days: { type: "string", default: "1000" },
    "start-days-ago": { type: "string", default: "1095" },
    "miss-every": { type: "string", default: "9" },
    warmup: { type: "string", default: "50" },
    rounds: { type: "string", default: "25" },
    "per-round": { type: "string", default: "20" },
    control: { type: "boolean", default: true },
    "cpu-prof": { type: "boolean", default: false },
    out: { type: "string" },
    nats: { type: "string", default: process.env.NATS_URL ?? "nats://127.0.0.1:4222" },
    help: { type: "boolean", default: false },
  },
  allowNegative: true,
});

if (args.help) {
  console.log(`node bench/cost-growth.ts [--topology=embedded|cluster|both] [--small=10] [--large=10000]
  [--days=1000] [--start-days-ago=1095] [--miss-every=9] [--warmup=50] [--rounds=25] [--per-round=20]
  [--no-control] [--cpu-prof] [--out=file.json] [--nats=nats://127.0.0.1:4222]`);
  process.exit(0);
}

function positiveInt(name: string, raw: string | undefined, min = 1): number {
  const value = Number(raw);
  if (!Number.isInteger(value) || value < min) {
    console.error(`--${name} must be an integer ≥ ${min} (got ${raw})`);
    process.exit(2);
  }
  return value;
}

const params = {
  smallActivities: positiveInt("small", args.small),
  largeActivities: positiveInt("large", args.large),
  largeDays: positiveInt("days", args.days),
  startDaysAgo: positiveInt("start-days-ago", args["start-days-ago"]),
  /** In the LARGE history every n-th day has no activity (a missed day): many runs, not one. 0: none. */
  missEvery: positiveInt("miss-every", args["miss-every"], 0),
  warmup: positiveInt("warmup", args.warmup, 0),
  rounds: positiveInt("rounds", args.rounds),
  perRound: positiveInt("per-round", args["per-round"]),
  control: args.control,
};
if (params.startDaysAgo < Math.max(params.largeDays, params.smallActivities)) {
  console.error("--start-days-ago must be at least --days (and --small): history starts after the goal");
  process.exit(2);
}

const topologies: Topology[] =
  args.topology === "both"
    ? ["embedded", "cluster"]
    : args.topology === "embedded" || args.topology === "cluster"
      ? [args.topology]
      : [];
if (topologies.length === 0) {
  console.error(`--topology must be embedded, cluster or both (got ${args.topology})`);
  process.exit(2);
}

const running = new Set<RunningSystem>();
let interrupted = false;
for (const signal of ["SIGINT", "SIGTERM"] as const) {
  process.on(signal, () => {
    if (interrupted) process.exit(130);
    interrupted = true;
    console.error(`\n${signal}: stopping the servers…`);
    void Promise.allSettled([...running].map((system) => system.stop())).then(() => process.exit(130));
  });
}

function isoDate(ms: number): string {
  return new Date(ms).toISOString().slice(0, 10);
}

/** UTC midnight of today (the benchmark users keep the default time zone, UTC, and day start 0). */
function todayMs(): number {
  const now = new Date();
  return Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate());
}

interface HistoryPlan {
  activities: number;
  /** Days back from today (1 = yesterday) over which the activities are spread. */
  days: number;
  missEvery: number;
}

interface SeedReport {
  activities: number;
  activeDays: number;
  firstDate: string;
  lastDate: string;
  bulkCalls: number;
  seconds: number;
}

/** `occurredAt` instants of the plan, oldest first: round-robin over the active days, a few minutes apart. */
function historyInstants(plan: HistoryPlan, today: number): { instants: string[]; activeDays: number[] } {
  const activeDays: number[] = [];
  for (let back = plan.days; back >= 1; back--) {
    if (plan.missEvery > 0 && back % plan.missEvery === 0) continue;
    activeDays.push(back);
  }
  const perDay = Math.ceil(plan.activities / activeDays.length);
  const spacingMs = Math.min(5 * 60 * 1000, Math.floor((16 * 60 * 60 * 1000) / perDay));
  const times: number[] = [];
  for (let i = 0; i < plan.activities; i++) {
    const back = activeDays[i % activeDays.length]!;
    const slot = Math.floor(i / activeDays.length);
    times.push(today - back * DAY_MS + 6 * 60 * 60 * 1000 + slot * spacingMs);
  }
  times.sort((a, b) => a - b);
  return { instants: times.map((t) => new Date(t).toISOString()), activeDays };
}

interface BulkResult {
  index: number;
  status: number;
  error?: unknown;
}

async function seedHistory(client: Client, goalId: string, plan: HistoryPlan): Promise<SeedReport> {
  const started = Date.now();
  const today = todayMs();
  const { instants, activeDays } = historyInstants(plan, today);
  let bulkCalls = 0;
  for (let offset = 0; offset < instants.length; offset += BULK_LIMIT) {
    const items = instants
      .slice(offset, offset + BULK_LIMIT)
      .map((occurredAt) => ({ goalId, quantity: 1, occurredAt }));
    await client.keepFresh();
    const { results } = await client.request<{ results: BulkResult[] }>("POST", "/activities/bulk", 200, {
      items,
    });
    bulkCalls += 1;
    const failed = results.filter((result) => result.status !== 201);
    if (results.length !== items.length || failed.length > 0) {
      throw new Error(
        `bulk seeding: ${failed.length} of ${items.length} items failed, e.g. ${JSON.stringify(failed[0])}`,
      );
    }
  }
  return {
    activities: instants.length,
    activeDays: activeDays.length,
    firstDate: isoDate(today - plan.days * DAY_MS),
    lastDate: isoDate(today - DAY_MS),
    bulkCalls,
    seconds: round((Date.now() - started) / 1000, 1),
  };
}

interface GoalView {
  id: string;
  streak: { current: number; longest: number; lastMetDate: string | null } | null;
  strength: number | null;
}

const OPERATIONS: readonly Operation[] = ["log", "read"];

interface Subject {
  role: Role;
  client: Client;
  goalId: string;
  seed: SeedReport;
  /** The goal as read after seeding. */
  seeded: Pick<GoalView, "streak" | "strength">;
}

async function prepareSubject(
  system: RunningSystem,
  client: Client | null,
  role: Role,
  plan: HistoryPlan,
): Promise<Subject> {
  const owner = client ?? new Client(system.baseUrl);
  if (!client) {
    await owner.register(`bench-${randomBytes(6).toString("hex")}@example.test`, "bench-password-1");
  }
  const goal = await owner.request<GoalView>("POST", "/goals", 201, {
    pattern: "daily",
    title: `cost-growth ${role}`,
    startDate: isoDate(todayMs() - params.startDaysAgo * DAY_MS),
  });
  const seed = await seedHistory(owner, goal.id, plan);
  const seeded = await owner.request<GoalView>("GET", `/goals/${goal.id}`, 200);
  return {
    role,
    client: owner,
    goalId: goal.id,
    seed,
    seeded: { streak: seeded.streak, strength: seeded.strength },
  };
}

/** One measured (or warm-up) request of an operation on a subject's goal. */
function runOnce(subject: Subject, operation: Operation): Promise<number> {
  return operation === "log"
    ? subject.client.timed("POST", `/goals/${subject.goalId}/activities`, 201, {})
    : subject.client.timed("GET", `/goals/${subject.goalId}`, 200);
}

type Samples = Record<Role, Record<Operation, number[][]>>;

const nowUs = () => Number(process.hrtime.bigint() / 1000n);

function emptySamples(): Samples {
  const perOperation = () => ({ log: [] as number[][], read: [] as number[][] });
  return { small: perOperation(), large: perOperation(), control: perOperation() };
}

async function measure(
  subjects: Subject[],
  topology: Topology,
): Promise<{ samples: Samples; windows: Window[] }> {
  const samples = emptySamples();
  const windows: Window[] = [];
  process.stdout.write(`[${topology}] warm-up: ${params.warmup} requests per goal and operation\n`);
  for (const subject of subjects) {
    await subject.client.keepFresh();
    for (const operation of OPERATIONS) {
      for (let i = 0; i < params.warmup; i++) await runOnce(subject, operation);
    }
  }
  for (let r = 0; r < params.rounds; r++) {
    // Rotate the order every round, so that no goal always runs first (or right after another).
    const order = subjects.map((_, i) => subjects[(i + r) % subjects.length]!);
    if (r % 5 === 0 || r === params.rounds - 1) {
      process.stdout.write(
        `[${topology}] round ${r + 1}/${params.rounds}: ${order.map((s) => s.role).join(" → ")}\n`,
      );
    }
    for (const subject of order) {
      await subject.client.keepFresh();
      for (const operation of OPERATIONS) {
        const block: number[] = [];
        const startUs = nowUs();
        for (let i = 0; i < params.perRound; i++) block.push(await runOnce(subject, operation));
        windows.push({ role: subject.role, operation, round: r + 1, startUs, endUs: nowUs() });
        samples[subject.role][operation].push(block);
      }
    }
  }
  return { samples, windows };
}

interface OperationReport {
  goals: Partial<Record<Role, Summary & { roundMediansMs: number[] }>>;
  /** LARGE / SMALL of the medians: the figure the target applies to. */
  ratio: number;
  meetsTarget: boolean;
  /** The same ratio round by round (how stable it is). */
  roundRatios: number[];
  /** LARGE / CONTROL of the medians, when a control was measured. */
  ratioToControl: number | null;
}

function report(samples: Samples, roles: Role[]): Record<Operation, OperationReport> {
  const result = {} as Record<Operation, OperationReport>;
  for (const operation of OPERATIONS) {
    const goals: OperationReport["goals"] = {};
    for (const role of roles) {
      const blocks = samples[role][operation];
      goals[role] = { ...summarize(blocks.flat()), roundMediansMs: blocks.map((b) => round(median(b))) };
    }
    const small = goals.small!;
    const large = goals.large!;
    const ratio = round(large.medianMs / small.medianMs);
    result[operation] = {
      goals,
      ratio,
      meetsTarget: ratio <= TARGET_RATIO,
      roundRatios: large.roundMediansMs.map((m, i) => round(m / small.roundMediansMs[i]!)),
      ratioToControl: goals.control ? round(large.medianMs / goals.control.medianMs) : null,
    };
  }
  return result;
}

interface TopologyResult {
  topology: Topology;
  subjects: Record<string, { earlierActivities: number; seed: SeedReport; afterSeeding: Subject["seeded"] }>;
  operations: Record<Operation, OperationReport>;
  seconds: number;
  /** Only with --cpu-prof: when each block ran. */
  windows?: Window[];
}

async function runTopology(topology: Topology, profileRoot: string | null): Promise<TopologyResult> {
  const started = Date.now();
  const systemOptions = (label: string) => ({
    label,
    natsUrl: args.nats,
    ...(profileRoot ? { cpuProfDir: path.join(profileRoot, `${topology}-${label}`) } : {}),
  });
  const systems: RunningSystem[] = [];
  const launch = async (label: string) => {
    const system = await startSystem(topology, systemOptions(label));
    systems.push(system);
    running.add(system);
    return system;
  };
  try {
    process.stdout.write(`[${topology}] starting the server${params.control ? "s" : ""}…\n`);
    const main = await launch("main");
    const control = params.control ? await launch("control") : null;
    const smallPlan = { activities: params.smallActivities, days: params.smallActivities, missEvery: 0 };
    const largePlan = {
      activities: params.largeActivities,
      days: params.largeDays,
      missEvery: params.missEvery,
    };
    process.stdout.write(
      `[${topology}] seeding: SMALL ${smallPlan.activities}, LARGE ${largePlan.activities} activities\n`,
    );
    const small = await prepareSubject(main, null, "small", smallPlan);
    const large = await prepareSubject(main, small.client, "large", largePlan);
    const subjects = [small, large];
    if (control) subjects.push(await prepareSubject(control, null, "control", smallPlan));
    for (const s of subjects) {
      process.stdout.write(
        `[${topology}]   ${s.role}: ${s.seed.activities} activities on ${s.seed.activeDays} days ` +
          `(${s.seed.firstDate}..${s.seed.lastDate}) in ${s.seed.seconds} s; ` +
          `streak ${JSON.stringify(s.seeded.streak)}, strength ${s.seeded.strength}\n`,
      );
    }
    const { samples, windows } = await measure(subjects, topology);
    return {
      topology,
      subjects: Object.fromEntries(
        subjects.map((s) => [
          s.role,
          { earlierActivities: s.seed.activities, seed: s.seed, afterSeeding: s.seeded },
        ]),
      ),
      operations: report(
        samples,
        subjects.map((s) => s.role),
      ),
      seconds: round((Date.now() - started) / 1000, 1),
      ...(profileRoot ? { windows } : {}),
    };
  } finally {
    for (const system of systems) {
      await system.stop();
      running.delete(system);
    }
  }
}

function printTable(result: TopologyResult): void {
  const rows: string[][] = [
    ["operation", "goal", "earlier activities", "n", "median ms", "p90 ms", "mean ms"],
  ];
  for (const operation of OPERATIONS) {
    for (const [role, summary] of Object.entries(result.operations[operation].goals)) {
      rows.push([
        operation,
        role,
        String(result.subjects[role]?.earlierActivities ?? ""),
        String(summary.n),
        summary.medianMs.toFixed(3),
        summary.p90Ms.toFixed(3),
        summary.meanMs.toFixed(3),
      ]);
    }
  }
  const widths = rows[0]!.map((_, c) => Math.max(...rows.map((row) => row[c]!.length)));
  console.log(`\n${result.topology}:`);
  for (const row of rows) console.log(`  ${row.map((cell, c) => cell.padEnd(widths[c]!)).join("  ")}`);
  for (const operation of OPERATIONS) {
    const op = result.operations[operation];
    const verdict = op.meetsTarget ? `meets ≤ ${TARGET_RATIO}` : `MISSES ≤ ${TARGET_RATIO}`;
    const control = op.ratioToControl === null ? "" : `; large/control ${op.ratioToControl.toFixed(2)}`;
    console.log(
      `  ${operation.padEnd(4)} ratio large/small of medians: ${op.ratio.toFixed(2)} → ${verdict}` +
        ` (per round: min ${Math.min(...op.roundRatios).toFixed(2)}, median ${median(op.roundRatios).toFixed(2)},` +
        ` max ${Math.max(...op.roundRatios).toFixed(2)}${control})`,
    );
  }
}

async function main(): Promise<void> {
  const startedAt = new Date();
  const code = codeVersion();
  if (topologies.includes("cluster") && !(await reachable(args.nats))) {
    console.error(`NATS is not reachable at ${args.nats}: start nats-server -js, or pass --nats=`);
    process.exit(1);
  }
  const profileRoot = args["cpu-prof"]
    ? path.join(ROOT, "bench/tmp", `cpu-profiles-${startedAt.toISOString().replace(/[:.]/g, "-")}`)
    : null;
  const machine = machineInfo();
  const results: TopologyResult[] = [];
  for (const topology of topologies) {
    results.push(await runTopology(topology, profileRoot));
    printTable(results[results.length - 1]!);
  }
  const date = startedAt.toISOString().slice(0, 10);
  const suffix = topologies.length === 1 && topologies[0] === "embedded" ? "" : `-${args.topology}`;
  const file = args.out ?? path.join(ROOT, "bench/results", `cost-growth-${date}${suffix}.json`);
  const output = {
    benchmark: "cost-growth",
    claim: "logging an activity and reading a goal cost the same with 10 and with 10,000 earlier activities",
    date,
    startedAt: startedAt.toISOString(),
    finishedAt: new Date().toISOString(),
    targetRatio: TARGET_RATIO,
    code,
    machine: { ...machine, loadAverageAtEnd: loadAverage() },
    parameters: {
      ...params,
      requestsPerGoalAndOperation: params.rounds * params.perRound,
      operations: { log: "POST /goals/:id/activities {}", read: "GET /goals/:id" },
      goal: `daily, startDate ${params.startDaysAgo} days ago`,
    },
    results,
    cpuProfiles: profileRoot ? path.relative(ROOT, profileRoot) : null,
  };
  await writeResults(file, output);
  if (profileRoot) console.log(`CPU profiles: ${path.relative(process.cwd(), profileRoot)}`);
}

main().catch(async (error: unknown) => {
  console.error(
    `benchmark failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`,
  );
  await Promise.allSettled([...running].map((system) => system.stop()));
  process.exit(1);
});
