/**
 * Where a process's CPU time went: the top functions of each V8 CPU profile in a directory (as written by
 * `npm run bench -- --cpu-prof=DIR`), by self time, with the share of all samples that were not idle and
 * the time grouped by package (node_modules/<name>, node: internals, or our own files).
 *
 *   node bench/profile-top.ts DIR [--top=20] [--skip=SECONDS] [--until=SECONDS]
 *
 * --skip and --until keep the samples of one window, in seconds from each profile's start (to leave out the
 * process starting and the users being seeded, or to look at one scenario).
 */
import { readdir, readFile } from "node:fs/promises";
import path from "node:path";
import { parseArgs } from "node:util";

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
}

interface CpuProfile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    top: { type: "string", default: "20" },
    skip: { type: "string", default: "0" },
    until: { type: "string", default: "Infinity" },
  },
});
const directory = positionals[0];
if (!directory) {
  console.error("usage: node bench/profile-top.ts DIR [--top=20] [--skip=SECONDS] [--until=SECONDS]");
  process.exit(2);
}

const IDLE = new Set(["(idle)", "(program)", "(garbage collector)"]);

function packageOf(url: string): string {
  const modules = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url);
  if (modules) return modules[1]!;
  if (url.startsWith("node:")) return "node:";
  if (!url) return "(native)";
  return path.relative(process.cwd(), new URL(url).pathname).split("/").slice(0, 2).join("/");
}

for (const file of (await readdir(directory)).filter((name) => name.endsWith(".cpuprofile")).sort()) {
  const profile = JSON.parse(await readFile(path.join(directory, file), "utf8")) as CpuProfile;
  const byId = new Map(profile.nodes.map((node) => [node.id, node]));
  const self = new Map<string, number>();
  const packages = new Map<string, number>();
  let busy = 0;
  let gc = 0;
  let elapsedUs = 0;
  const skipUs = Number(values.skip) * 1e6;
  const untilUs = Number(values.until) * 1e6;
  profile.samples.forEach((id, index) => {
    const frame = byId.get(id)!.callFrame;
    const us = profile.timeDeltas[index] ?? 0;
    elapsedUs += us;
    if (elapsedUs < skipUs || elapsedUs > untilUs) return;
    if (frame.functionName === "(garbage collector)") gc += us;
    if (IDLE.has(frame.functionName)) return;
    busy += us;
    const key = `${frame.functionName || "(anonymous)"} ${packageOf(frame.url)}:${frame.lineNumber + 1}`;
    self.set(key, (self.get(key) ?? 0) + us);
    packages.set(packageOf(frame.url), (packages.get(packageOf(frame.url)) ?? 0) + us);
  });
  const ms = (us: number) => (us / 1000).toFixed(0).padStart(7);
  const share = (us: number) => `${((100 * us) / busy).toFixed(1).padStart(5)}%`;
  console.log(`\n== ${file}: ${ms(busy).trim()} ms busy in JS/native, ${ms(gc).trim()} ms GC`);
  console.log("   by package:");
  for (const [name, us] of [...packages].sort((a, b) => b[1] - a[1]).slice(0, 10)) {
    console.log(`   ${ms(us)} ms ${share(us)}  ${name}`);
  }
  console.log("   by function (self):");
  for (const [name, us] of [...self].sort((a, b) => b[1] - a[1]).slice(0, Number(values.top))) {
    console.log(`   ${ms(us)} ms ${share(us)}  ${name}`);
  }
}
