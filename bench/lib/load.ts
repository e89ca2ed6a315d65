/** Runs one load (bench/lib/load-generator.ts) in a process of its own, pinned to the load CPU. */
import { execFile } from "node:child_process";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import { pinned } from "./cpus.ts";
import type { LoadResult, LoadSpec } from "./load-spec.ts";

const GENERATOR = path.join(import.meta.dirname, "load-generator.ts");

export async function runLoad(spec: LoadSpec, cpus: string | null): Promise<LoadResult> {
  const dir = await mkdtemp(path.join(os.tmpdir(), "goal-tracker-load-"));
  try {
    const file = path.join(dir, "spec.json");
    await writeFile(file, JSON.stringify(spec));
    const [command, args] = pinned(cpus, process.execPath, [GENERATOR, file]);
    const { stdout } = await promisify(execFile)(command, args, {
      maxBuffer: 16 * 1024 * 1024,
      timeout: (spec.warmupSec + spec.durationSec + 60) * 1000,
    });
    return JSON.parse(stdout.trim().split("\n").pop()!) as LoadResult;
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
