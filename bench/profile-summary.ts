/**
 * Where the server's CPU time goes, per goal and operation: cuts the V8 CPU profiles written by
 * `node bench/cost-growth.ts --cpu-prof` along the measured blocks (same monotonic clock) and prints,
 * per request, the CPU time of each function (inclusive: itself and what it calls) for SMALL, LARGE and
 * CONTROL side by side, sorted by how much more it costs on LARGE than on CONTROL.
 *
 *   node bench/profile-summary.ts bench/results/cost-growth-<date>.json [--top=25] [--self]
 */
import { readdir, readFile } from "node:fs/promises";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import type { Operation, Role, Window } from "./lib/types.ts";

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");

interface CallFrame {
  functionName: string;
  url: string;
  lineNumber: number;
}

interface ProfileNode {
  id: number;
  callFrame: CallFrame;
  children?: number[];
}

interface CpuProfile {
  nodes: ProfileNode[];
  startTime: number;
  endTime: number;
  samples: number[];
  timeDeltas: number[];
}

interface TopologyResult {
  topology: string;
  windows?: Window[];
}

interface Results {
  cpuProfiles: string | null;
  parameters: { rounds: number; perRound: number };
  results: TopologyResult[];
}

const { values: args, positionals } = parseArgs({
  options: {
    top: { type: "string", default: "25" },
    self: { type: "boolean", default: false },
  },
  allowPositionals: true,
});

const NON_CPU = new Set(["(idle)", "(program)", "(garbage collector)", "(root)"]);

function frameKey(frame: CallFrame): string {
  const name = frame.functionName || "(anonymous)";
  if (!frame.url) return name;
  let file = frame.url.startsWith("file://") ? fileURLToPath(frame.url) : frame.url;
  if (file.startsWith(ROOT)) file = path.relative(ROOT, file);
  return `${name} ${file}:${frame.lineNumber + 1}`;
}

/** Per (role, operation): µs of CPU by function key, inclusive or self, summed over the windows. */
type Tally = Map<string, Map<string, number>>;

function add(tally: Tally, bucket: string, key: string, us: number): void {
  let map = tally.get(bucket);
  if (!map) tally.set(bucket, (map = new Map()));
  map.set(key, (map.get(key) ?? 0) + us);
}

function tallyProfile(profile: CpuProfile, windows: Window[], inclusive: Tally, self: Tally): void {
  const byId = new Map(profile.nodes.map((node) => [node.id, node]));
  const parent = new Map<number, number>();
  for (const node of profile.nodes) for (const child of node.children ?? []) parent.set(child, node.id);
  const sorted = [...windows].sort((a, b) => a.startUs - b.startUs);
  let time = profile.startTime;
  let w = 0;
  for (let i = 0; i < profile.samples.length; i++) {
    time += profile.timeDeltas[i] ?? 0;
    // The sample stands for the time until the next one.
    const weight = profile.timeDeltas[i + 1] ?? 0;
    while (w < sorted.length && sorted[w]!.endUs < time) w++;
    const window = sorted[w];
    if (!window || time < window.startUs) continue;
    const bucket = `${window.role}/${window.operation}`;
    const leaf = byId.get(profile.samples[i]!);
    if (!leaf) continue;
    const leafName = leaf.callFrame.functionName;
    add(self, bucket, NON_CPU.has(leafName) ? leafName : frameKey(leaf.callFrame), weight);
    if (leafName === "(idle)") continue;
    add(inclusive, bucket, "(all CPU)", weight);
    const seen = new Set<string>();
    for (let id: number | undefined = leaf.id; id !== undefined; id = parent.get(id)) {
      const node = byId.get(id)!;
      if (node.callFrame.functionName === "(root)") continue;
      const key = frameKey(node.callFrame);
      if (seen.has(key)) continue;
      seen.add(key);
      add(inclusive, bucket, key, weight);
    }
  }
}

async function profilesIn(dir: string): Promise<CpuProfile[]> {
  const files = (await readdir(dir).catch(() => [] as string[])).filter((f) => f.endsWith(".cpuprofile"));
  return Promise.all(
    files.map(async (file) => JSON.parse(await readFile(path.join(dir, file), "utf8")) as CpuProfile),
  );
}

function printTable(title: string, tally: Tally, operation: Operation, requests: number, top: number): void {
  const roles: Role[] = ["small", "large", "control"];
  const maps = roles.map((role) => tally.get(`${role}/${operation}`) ?? new Map<string, number>());
  const keys = new Set(maps.flatMap((map) => [...map.keys()]));
  const perRequest = (map: Map<string, number>, key: string) => (map.get(key) ?? 0) / requests;
  const rows = [...keys]
    .map((key) => ({ key, values: maps.map((map) => perRequest(map, key)) }))
    .filter((row) => Math.max(...row.values) >= 2)
    .sort((a, b) => b.values[1]! - b.values[2]! - (a.values[1]! - a.values[2]!))
    .slice(0, top);
  console.log(`\n${title} — ${operation}: CPU µs per request (${requests} requests per goal)`);
  console.log(`  ${"small".padStart(8)} ${"large".padStart(8)} ${"control".padStart(8)}  function`);
  for (const row of rows) {
    console.log(`  ${row.values.map((v) => v.toFixed(0).padStart(8)).join(" ")}  ${row.key}`);
  }
}

async function main(): Promise<void> {
  const file = positionals[0];
  if (!file) {
    console.error("usage: node bench/profile-summary.ts <results.json> [--top=25] [--self]");
    process.exit(2);
  }
  const results = JSON.parse(await readFile(file, "utf8")) as Results;
  if (!results.cpuProfiles) {
    console.error(`${file} has no CPU profiles: run the benchmark with --cpu-prof`);
    process.exit(2);
  }
  const requests = results.parameters.rounds * results.parameters.perRound;
  const top = Number(args.top);
  for (const result of results.results) {
    const windows = result.windows ?? [];
    const inclusive: Tally = new Map();
    const self: Tally = new Map();
    for (const [label, roles] of [
      ["main", ["small", "large"]],
      ["control", ["control"]],
    ] as const) {
      const dir = path.join(ROOT, results.cpuProfiles, `${result.topology}-${label}`);
      const mine = windows.filter((window) => (roles as readonly Role[]).includes(window.role));
      for (const profile of await profilesIn(dir)) tallyProfile(profile, mine, inclusive, self);
    }
    for (const operation of ["log", "read"] as const) {
      printTable(`${result.topology}, inclusive`, inclusive, operation, requests, top);
      if (args.self) printTable(`${result.topology}, self`, self, operation, requests, top);
    }
  }
}

await main();
