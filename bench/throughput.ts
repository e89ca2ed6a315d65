/**
 * Throughput, latency, memory and cold start of the API, as ratios to baselines measured in the same run.
 *
 *   npm run bench                                  # every topology, 3 runs per figure (~35 min)
 *   npm run bench -- --topologies=distributed --runs=3
 *   npm run bench -- --quick                       # one short run of everything: checks the harness works
 *
 * The load generator is a process of its own pinned to the last CPU (bench/lib/load-generator.ts); this
 * script pins itself to the other CPUs, and everything it starts inherits that: the baselines, a private
 * nats-server, FerretDB and the services. Per topology, every user gets one goal of each pattern, then
 * each scenario runs `runs` times as: a closed loop at `connections` connections, then an open loop at
 * each fixed rate. Between measurements the script waits until the system's processes are idle.
 *
 * Baselines: a bare node:http server, and moleculer-web → NATS → an echo action in another process.
 * Topologies: `distributed` (one process per service on NATS, each with its own NeDB files), the same
 * with FerretDB (`distributed-ferretdb`), and `embedded` (`node index.ts`, one process).
 *
 * Writes bench/results/throughput-<date>.json and prints the tables of bench/README.md.
 */
import { spawnSync } from "node:child_process";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { parseArgs } from "node:util";
import { ALL_SERVICES } from "../shared/config.ts";
import { defaultCpuPlan, pinThisProcess } from "./lib/cpus.ts";
import { runLoad } from "./lib/load.ts";
import type { LoadResult, LoadSpec, RequestTemplate } from "./lib/load-spec.ts";
import { RssWatch, type WatchedProcess } from "./lib/memory.ts";
import { startNatsServer } from "./lib/nats-server.ts";
import { startNodeScript, waitForIdle } from "./lib/processes.ts";
import { codeVersion, loadAverage, machineInfo, writeResults } from "./lib/run-info.ts";
import { median, round } from "./lib/stats.ts";
import { ROOT, type RunningSystem, startCluster, startEmbedded } from "./lib/systems.ts";
import {
  keepTokensFresh,
  type Scenario,
  SCENARIOS,
  SCENARIO_TITLES,
  scenarioRequests,
  seedUsers,
} from "./lib/workload.ts";
import { freePort } from "../scripts/ports.ts";

const TOPOLOGIES = ["distributed", "distributed-ferretdb", "embedded"] as const;
type TopologyName = (typeof TOPOLOGIES)[number];

/** The targets of the issue, held on the distributed topology with the embedded database. */
const TARGETS = {
  logVsEcho: 0.3,
  readVsEcho: 0.5,
  p99MsAt1000: 100,
  coldStartMs: 1000,
  rssMiB: 150,
};

const { values: args } = parseArgs({
  options: {
    topologies: { type: "string", default: TOPOLOGIES.join(",") },
    scenarios: { type: "string", default: SCENARIOS.join(",") },
    runs: { type: "string", default: "3" },
    duration: { type: "string", default: "10" },
    warmup: { type: "string", default: "3" },
    connections: { type: "string", default: "100" },
    rates: { type: "string", default: "100,1000" },
    users: { type: "string", default: "200" },
    "cold-starts": { type: "string", default: "3" },
    quick: { type: "boolean", default: false },
    "cpu-prof": { type: "string" },
    out: { type: "string" },
    help: { type: "boolean", default: false },
  },
});

if (args.help) {
  console.log(`node bench/throughput.ts [--topologies=${TOPOLOGIES.join(",")}] [--scenarios=${SCENARIOS.join(",")}]
  [--runs=3] [--duration=10] [--warmup=3] [--connections=100] [--rates=100,1000] [--users=200]
  [--cold-starts=3] [--quick] [--out=file.json] [--cpu-prof=DIR (every server writes a V8 CPU profile there)]`);
  process.exit(0);
}

function numbers(name: string, raw: string): number[] {
  const values = raw.split(",").map(Number);
  if (values.some((value) => !Number.isFinite(value) || value <= 0)) {
    console.error(`--${name} takes positive numbers (got ${raw})`);
    process.exit(2);
  }
  return values;
}

function names<T extends string>(name: string, raw: string, allowed: readonly T[]): T[] {
  const values = raw.split(",") as T[];
  const unknown = values.filter((value) => !allowed.includes(value));
  if (unknown.length > 0) {
    console.error(`--${name}: unknown ${unknown.join(", ")} (allowed: ${allowed.join(", ")})`);
    process.exit(2);
  }
  return values;
}

const params = args.quick
  ? { runs: 1, durationSec: 2, warmupSec: 1, connections: 20, rates: [100], users: 10, coldStarts: 1 }
  : {
      runs: numbers("runs", args.runs)[0]!,
      durationSec: numbers("duration", args.duration)[0]!,
      warmupSec: Number(args.warmup),
      connections: numbers("connections", args.connections)[0]!,
      rates: numbers("rates", args.rates),
      users: numbers("users", args.users)[0]!,
      coldStarts: numbers("cold-starts", args["cold-starts"])[0]!,
    };
const topologies = names("topologies", args.topologies, TOPOLOGIES);
const scenarios = names("scenarios", args.scenarios, SCENARIOS);
const cpus = defaultCpuPlan();

/** A fixed rate is not offered when it is this many times what the closed loop reached: it only builds a queue. */
const OVERLOAD_FACTOR = 1.5;

type CellKind = "closed" | `rate-${number}`;

interface CellFigures {
  runs: LoadResult[];
  /** Medians over the runs. */
  throughputRps: number;
  p50Ms: number | null;
  p99Ms: number | null;
  failures: number;
}

interface CellSkipped {
  skipped: string;
}

type Cell = CellFigures | CellSkipped;

function figures(runs: LoadResult[]): CellFigures {
  const latencies = runs.flatMap((run) => (run.latency ? [run.latency] : []));
  return {
    runs,
    throughputRps: round(median(runs.map((run) => run.throughputRps)), 1),
    p50Ms: latencies.length ? round(median(latencies.map((l) => l.p50Ms)), 2) : null,
    p99Ms: latencies.length ? round(median(latencies.map((l) => l.p99Ms)), 2) : null,
    failures: runs.reduce(
      (sum, run) => sum + run.errors + Object.values(run.unexpected).reduce((a, b) => a + b, 0),
      0,
    ),
  };
}

function isMeasured(cell: Cell | undefined): cell is CellFigures {
  return cell !== undefined && !("skipped" in cell);
}

/** Runs one scenario's cells `runs` times; `requests` is rebuilt per measurement (tokens get refreshed). */
async function measureCells(
  label: string,
  origin: string,
  requests: () => Promise<{ sessions: RequestTemplate[][]; expectStatus: number[] }>,
  settle: () => Promise<number>,
  watch: RssWatch,
): Promise<Record<CellKind, Cell>> {
  const results: Record<string, LoadResult[]> = {};
  const skipped: Record<string, string> = {};
  for (let run = 1; run <= params.runs; run += 1) {
    const kinds: CellKind[] = ["closed", ...params.rates.map((rate): CellKind => `rate-${rate}`)];
    for (const kind of kinds) {
      const rate = kind === "closed" ? undefined : Number(kind.slice(5));
      if (rate !== undefined) {
        const capacity = median(results.closed!.map((result) => result.throughputRps));
        if (rate > capacity * OVERLOAD_FACTOR) {
          skipped[kind] =
            `not offered: ${rate} req/s is over ${OVERLOAD_FACTOR}× the closed-loop capacity (${round(capacity, 0)} req/s)`;
          continue;
        }
      }
      const spec: LoadSpec = {
        origin,
        ...(await requests()),
        mode: kind === "closed" ? "closed" : "open",
        connections: params.connections,
        rate,
        warmupSec: params.warmupSec,
        durationSec: params.durationSec,
      };
      watch.phase = kind === "closed" ? "closed loop" : "fixed rates";
      const result = await runLoad(spec, cpus.load);
      watch.phase = null;
      const waited = await settle();
      (results[kind] ??= []).push(result);
      const failures = result.errors + Object.values(result.unexpected).reduce((a, b) => a + b, 0);
      console.log(
        `  ${label} ${kind} run ${run}: ${result.throughputRps} req/s, p50 ${result.latency?.p50Ms ?? "-"} ms, ` +
          `p99 ${result.latency?.p99Ms ?? "-"} ms, failures ${failures}${failures ? ` ${JSON.stringify(result.unexpected)}` : ""}, idle after ${waited} ms`,
      );
    }
  }
  const cells: Record<string, Cell> = {};
  for (const [kind, runs] of Object.entries(results)) cells[kind] = figures(runs);
  for (const [kind, reason] of Object.entries(skipped)) cells[kind] ??= { skipped: reason };
  return cells as Record<CellKind, Cell>;
}

interface BaselineResult {
  name: string;
  startMs: number[];
  rssMiB: Record<string, number>;
  rssMiBByPhase: Record<string, Record<string, number>>;
  cells: Record<CellKind, Cell>;
}

/** The bare server and the echo path, measured like the scenarios. */
async function measureBaselines(natsUrl: string): Promise<BaselineResult[]> {
  const results: BaselineResult[] = [];
  {
    const port = await freePort();
    const server = await startNodeScript(path.join(ROOT, "bench/baselines/bare-http.ts"), {
      PORT: String(port),
    });
    const processes = () => [{ name: "bare-http", pid: server.child.pid! }];
    const watch = new RssWatch(processes);
    try {
      console.log("baseline: bare node:http");
      const cells = await measureCells(
        "bare",
        `http://127.0.0.1:${port}`,
        async () => ({ sessions: [[{ method: "GET", path: "/" }]], expectStatus: [200] }),
        () => waitForIdle(processes),
        watch,
      );
      results.push({
        name: "bare-http",
        startMs: [round(server.startMs, 0)],
        rssMiB: await watch.stop(),
        rssMiBByPhase: watch.byPhase(),
        cells,
      });
    } finally {
      await server.stop();
    }
  }
  {
    const port = await freePort();
    const env = {
      TRANSPORTER: natsUrl,
      NAMESPACE: `bench-echo-${process.pid}`,
      PORT: String(port),
    };
    const echo = await startNodeScript(path.join(ROOT, "bench/baselines/echo.ts"), { ...env, ROLE: "echo" });
    const gateway = await startNodeScript(path.join(ROOT, "bench/baselines/echo.ts"), {
      ...env,
      ROLE: "gateway",
    }).catch(async (error: unknown) => {
      await echo.stop();
      throw error;
    });
    const processes = () => [
      { name: "echo-gateway", pid: gateway.child.pid! },
      { name: "echo-action", pid: echo.child.pid! },
    ];
    const watch = new RssWatch(processes);
    try {
      console.log("baseline: moleculer-web → NATS → echo action");
      const cells = await measureCells(
        "echo",
        `http://127.0.0.1:${port}`,
        async () => ({ sessions: [[{ method: "GET", path: "/api/v1/echo" }]], expectStatus: [200] }),
        () => waitForIdle(processes),
        watch,
      );
      results.push({
        name: "nats-echo",
        startMs: [round(echo.startMs, 0), round(gateway.startMs, 0)],
        rssMiB: await watch.stop(),
        rssMiBByPhase: watch.byPhase(),
        cells,
      });
    } finally {
      await gateway.stop();
      await echo.stop();
    }
  }
  return results;
}

interface TopologyResult {
  topology: TopologyName;
  users: number;
  seedingSec: number;
  scenarios: Partial<Record<Scenario, Record<CellKind, Cell>>>;
  /** Peak RSS under load, by process, and by kind of load. */
  rssMiB: Record<string, number>;
  rssMiBByPhase: Record<string, Record<string, number>>;
  /** Median ms from spawn until /ready answered, per process (restarted one at a time on its data). */
  coldStartMs: Record<string, number>;
  coldStartRunsMs: Record<string, number[]>;
}

function ferret(command: "start" | "stop", dir: string): string {
  const result = spawnSync("bash", [path.join(ROOT, `scripts/ferretdb/${command}.sh`), dir], {
    encoding: "utf8",
  });
  if (result.status !== 0) throw new Error(`ferretdb ${command} failed: ${result.stderr}`);
  return result.stdout.trim();
}

async function ferretPid(dir: string): Promise<number | null> {
  const pid = Number((await readFile(path.join(dir, "ferretdb.pid"), "utf8").catch(() => "")).trim());
  return Number.isInteger(pid) && pid > 0 ? pid : null;
}

async function measureTopology(
  topology: TopologyName,
  natsUrl: string,
  natsPid: number,
): Promise<TopologyResult> {
  console.log(`\ntopology: ${topology}`);
  const ferretDir =
    topology === "distributed-ferretdb"
      ? await mkdtemp(path.join(os.tmpdir(), "goal-tracker-bench-ferret-"))
      : null;
  const extra: WatchedProcess[] = [];
  let system: RunningSystem | null = null;
  try {
    let mongoUrl: string | undefined;
    if (ferretDir) {
      mongoUrl = ferret("start", ferretDir);
      const pid = await ferretPid(ferretDir);
      if (pid) extra.push({ name: "ferretdb", pid });
    }
    const options = {
      label: topology.replace("distributed", "dist").slice(0, 12),
      natsUrl,
      mongoUrl,
      cpuProfDir: args["cpu-prof"] ? path.resolve(args["cpu-prof"], topology) : undefined,
      // Under saturation a 1 ms interval is enough samples; 100 µs would cost more CPU than some services use.
      cpuProfIntervalUs: 1000,
    };
    system = topology === "embedded" ? await startEmbedded(options) : await startCluster(options);
    if (topology !== "embedded") extra.push({ name: "nats-server", pid: natsPid });
    const running = system;
    const processes = () => [...running.processes(), ...extra];
    const seedStarted = performance.now();
    const users = await seedUsers(running.baseUrl, params.users, options.label);
    const seedingSec = round((performance.now() - seedStarted) / 1000, 1);
    console.log(`  seeded ${users.length} users × 5 goals in ${seedingSec} s`);
    await waitForIdle(processes);
    const origin = new URL(running.baseUrl).origin;
    const prefix = new URL(running.baseUrl).pathname;
    const watch = new RssWatch(processes);
    const results: TopologyResult["scenarios"] = {};
    for (const scenario of scenarios) {
      results[scenario] = await measureCells(
        scenario,
        origin,
        async () => {
          await keepTokensFresh(running.baseUrl, users);
          return scenarioRequests(scenario, users, prefix);
        },
        () => waitForIdle(processes),
        watch,
      );
    }
    const rssMiB = await watch.stop();
    const coldStartRunsMs: Record<string, number[]> = {};
    const restartable = topology === "embedded" ? ["all services"] : [...ALL_SERVICES];
    for (let run = 0; run < params.coldStarts; run += 1) {
      for (const name of restartable) {
        (coldStartRunsMs[name] ??= []).push(round(await running.restart(name), 0));
        await waitForIdle(processes);
      }
    }
    const coldStartMs = Object.fromEntries(
      Object.entries(coldStartRunsMs).map(([name, runs]) => [name, round(median(runs), 0)]),
    );
    console.log(`  cold start (ms): ${JSON.stringify(coldStartMs)}`);
    console.log(`  peak RSS (MiB): ${JSON.stringify(rssMiB)}`);
    return {
      topology,
      users: users.length,
      seedingSec,
      scenarios: results,
      rssMiB,
      rssMiBByPhase: watch.byPhase(),
      coldStartMs,
      coldStartRunsMs,
    };
  } finally {
    await system?.stop();
    if (ferretDir) {
      ferret("stop", ferretDir);
      await rm(ferretDir, { recursive: true, force: true });
    }
  }
}

/** The ratios and verdicts the README's tables show. */
function analyse(baselines: BaselineResult[], results: TopologyResult[]) {
  const echo = baselines.find((baseline) => baseline.name === "nats-echo")!;
  const bare = baselines.find((baseline) => baseline.name === "bare-http")!;
  const closed = (cells: Record<CellKind, Cell> | undefined) =>
    isMeasured(cells?.closed) ? cells.closed.throughputRps : null;
  const ratio = (value: number | null, base: number | null) =>
    value !== null && base ? round(value / base, 3) : null;
  const echoRps = closed(echo.cells);
  const bareRps = closed(bare.cells);
  const rows = results.flatMap((result) =>
    scenarios.map((scenario) => {
      const cells = result.scenarios[scenario];
      const atRate = Object.fromEntries(
        params.rates.map((rate) => {
          const cell = cells?.[`rate-${rate}`];
          const base = echo.cells[`rate-${rate}`];
          if (!isMeasured(cell))
            return [rate, { skipped: cell && "skipped" in cell ? cell.skipped : "not run" }];
          return [
            rate,
            {
              achievedRps: cell.throughputRps,
              p50Ms: cell.p50Ms,
              p99Ms: cell.p99Ms,
              failures: cell.failures,
              p50VsEcho: isMeasured(base) ? ratio(cell.p50Ms, base.p50Ms) : null,
              p99VsEcho: isMeasured(base) ? ratio(cell.p99Ms, base.p99Ms) : null,
            },
          ];
        }),
      );
      return {
        topology: result.topology,
        scenario,
        throughputRps: closed(cells),
        vsEcho: ratio(closed(cells), echoRps),
        vsBare: ratio(closed(cells), bareRps),
        atRate,
      };
    }),
  );
  const distributed = results.find((result) => result.topology === "distributed");
  const row = (scenario: Scenario) =>
    rows.find((r) => r.topology === "distributed" && r.scenario === scenario);
  const at1000 = (scenario: Scenario) => {
    const cell = row(scenario)?.atRate[1000];
    return cell && "p99Ms" in cell ? cell.p99Ms : null;
  };
  const services = distributed
    ? Object.entries(distributed.rssMiB).filter(([name]) =>
        (ALL_SERVICES as readonly string[]).includes(name),
      )
    : [];
  const targets = distributed
    ? {
        logVsEcho: { target: `≥ ${TARGETS.logVsEcho}`, value: row("log")?.vsEcho ?? null },
        readVsEcho: { target: `≥ ${TARGETS.readVsEcho}`, value: row("read")?.vsEcho ?? null },
        p99At1000: {
          target: `< ${TARGETS.p99MsAt1000} ms`,
          value: Object.fromEntries(scenarios.map((scenario) => [scenario, at1000(scenario)])),
        },
        coldStartMs: { target: `< ${TARGETS.coldStartMs}`, value: distributed.coldStartMs },
        rssMiB: { target: `< ${TARGETS.rssMiB}`, value: Object.fromEntries(services) },
      }
    : null;
  const verdicts = targets
    ? {
        logVsEcho: (targets.logVsEcho.value ?? 0) >= TARGETS.logVsEcho,
        readVsEcho: (targets.readVsEcho.value ?? 0) >= TARGETS.readVsEcho,
        p99At1000: Object.fromEntries(
          scenarios.map((scenario) => [scenario, (at1000(scenario) ?? Infinity) < TARGETS.p99MsAt1000]),
        ),
        coldStart: Object.values(distributed!.coldStartMs).every((ms) => ms < TARGETS.coldStartMs),
        rss: services.every(([, mib]) => mib < TARGETS.rssMiB),
        rssAtFixedRates: services.every(
          ([name]) => (distributed!.rssMiBByPhase["fixed rates"]?.[name] ?? Infinity) < TARGETS.rssMiB,
        ),
      }
    : null;
  return { echoRps, bareRps, rows, targets, verdicts };
}

function printTables(
  baselines: BaselineResult[],
  results: TopologyResult[],
  analysis: ReturnType<typeof analyse>,
): void {
  const rates = params.rates;
  const fmt = (value: number | null | undefined, digits = 1) =>
    value === null || value === undefined ? "–" : value.toFixed(digits);
  console.log(
    "\n| baseline | closed loop req/s | " +
      rates.map((rate) => `p50 / p99 ms at ${rate}/s`).join(" | ") +
      " | peak RSS MiB |",
  );
  console.log("| --- | ---: | " + rates.map(() => "---:").join(" | ") + " | ---: |");
  for (const baseline of baselines) {
    const closed = baseline.cells.closed;
    const atRates = rates.map((rate) => {
      const cell = baseline.cells[`rate-${rate}`];
      return isMeasured(cell) ? `${fmt(cell.p50Ms, 2)} / ${fmt(cell.p99Ms, 2)}` : "–";
    });
    const rss = Object.values(baseline.rssMiB)
      .map((mib) => fmt(mib, 0))
      .join(" + ");
    console.log(
      `| ${baseline.name} | ${isMeasured(closed) ? fmt(closed.throughputRps, 0) : "–"} | ${atRates.join(" | ")} | ${rss} |`,
    );
  }
  console.log(
    "\n| topology | scenario | closed loop req/s | × echo | × bare | " +
      rates.map((rate) => `at ${rate}/s: achieved, p50 / p99 ms`).join(" | ") +
      " |",
  );
  console.log("| --- | --- | ---: | ---: | ---: | " + rates.map(() => "---:").join(" | ") + " |");
  for (const row of analysis.rows) {
    const atRates = rates.map((rate) => {
      const cell = row.atRate[rate]!;
      return "skipped" in cell
        ? "not offered"
        : `${fmt(cell.achievedRps, 0)}, ${fmt(cell.p50Ms, 2)} / ${fmt(cell.p99Ms, 2)}${cell.failures ? ` (${cell.failures} failed)` : ""}`;
    });
    console.log(
      `| ${row.topology} | ${row.scenario} | ${fmt(row.throughputRps, 0)} | ${fmt(row.vsEcho, 2)} | ${fmt(row.vsBare, 3)} | ${atRates.join(" | ")} |`,
    );
  }
  console.log(
    "\n| topology | process | peak RSS MiB, closed loop | peak RSS MiB, fixed rates | cold start ms (median) |",
  );
  console.log("| --- | --- | ---: | ---: | ---: |");
  for (const result of [
    ...baselines.map((b) => ({ ...b, topology: "baseline", coldStartMs: {} })),
    ...results,
  ]) {
    for (const name of Object.keys(result.rssMiB)) {
      const closed = result.rssMiBByPhase["closed loop"]?.[name];
      const fixed = result.rssMiBByPhase["fixed rates"]?.[name];
      const coldStart = (result.coldStartMs as Record<string, number>)[name];
      console.log(
        `| ${result.topology} | ${name} | ${fmt(closed, 0)} | ${fmt(fixed, 0)} | ${fmt(coldStart, 0)} |`,
      );
    }
  }
  if (analysis.verdicts) console.log(`\ntargets (distributed): ${JSON.stringify(analysis.verdicts)}`);
}

async function main(): Promise<void> {
  const startedAt = new Date();
  pinThisProcess(cpus.system);
  const machine = machineInfo();
  const code = codeVersion();
  console.log(
    `CPUs: system ${cpus.system ?? "all"}, load generator ${cpus.load ?? "all"}; ${JSON.stringify(params)}`,
  );
  const nats = await startNatsServer();
  try {
    const baselines = await measureBaselines(nats.url);
    const results: TopologyResult[] = [];
    for (const topology of topologies) results.push(await measureTopology(topology, nats.url, nats.pid));
    const analysis = analyse(baselines, results);
    printTables(baselines, results, analysis);
    const date = startedAt.toISOString().slice(0, 10);
    const file =
      args.out ?? path.join(ROOT, "bench/results", `throughput-${date}${args.quick ? "-quick" : ""}.json`);
    await writeResults(file, {
      benchmark: "throughput",
      date,
      startedAt: startedAt.toISOString(),
      finishedAt: new Date().toISOString(),
      code,
      machine: { ...machine, loadAverageAtEnd: loadAverage() },
      cpuPinning: cpus,
      parameters: {
        ...params,
        scenarios: Object.fromEntries(scenarios.map((s) => [s, SCENARIO_TITLES[s]])),
        topologies,
      },
      targets: TARGETS,
      analysis,
      baselines,
      results,
    });
  } finally {
    await nats.stop();
  }
}

main().catch((error: unknown) => {
  console.error(
    `benchmark failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`,
  );
  process.exit(1);
});
