/** What every benchmark result records about the run: the code measured, the machine, the file written. */
import { spawnSync } from "node:child_process";
import { mkdir, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import * as prettier from "prettier";
import { round } from "./stats.ts";
import { ROOT } from "./systems.ts";

/** The commit measured, and the tracked files changed since (other than bench/). */
export function codeVersion(): { commit: string; changedFiles: string[] } {
  const git = (...gitArgs: string[]) =>
    spawnSync("git", gitArgs, { cwd: ROOT, encoding: "utf8" }).stdout?.trim() ?? "";
  const changedFiles = git("status", "--porcelain", "--untracked-files=no")
    .split("\n")
    .map((line) => line.slice(3))
    .filter((file) => file && !file.startsWith("bench/"));
  return { commit: git("rev-parse", "HEAD") || "unknown", changedFiles };
}

export interface Machine {
  cpus: number;
  cpuModel: string;
  totalMemoryGiB: number;
  platform: string;
  node: string;
  loadAverageAtStart: number[];
}

export function machineInfo(): Machine {
  const cpus = os.cpus();
  return {
    cpus: cpus.length,
    cpuModel: cpus[0]?.model ?? "unknown",
    totalMemoryGiB: round(os.totalmem() / 2 ** 30, 1),
    platform: `${os.platform()} ${os.release()} ${os.arch()}`,
    node: process.version,
    loadAverageAtStart: os.loadavg().map((x) => round(x, 2)),
  };
}

export function loadAverage(): number[] {
  return os.loadavg().map((x) => round(x, 2));
}

/** Writes results as JSON, formatted as the repository's `prettier --check .` expects it. */
export async function writeResults(file: string, output: unknown): Promise<void> {
  await mkdir(path.dirname(file), { recursive: true });
  const style = (await prettier.resolveConfig(file)) ?? {};
  await writeFile(file, await prettier.format(JSON.stringify(output), { ...style, filepath: file }));
  console.log(`\nresults: ${path.relative(process.cwd(), file)}`);
}
