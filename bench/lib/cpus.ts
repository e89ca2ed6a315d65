/**
 * CPU pinning with taskset (util-linux): the load generator gets a core of its own, and the system under
 * test, its NATS and its database share the others, so that neither steals the other's CPU time.
 */
import { execFileSync } from "node:child_process";
import os from "node:os";

export interface CpuPlan {
  /** taskset lists, e.g. "0" and "1"; null when the machine has a single CPU (nothing is pinned). */
  system: string | null;
  load: string | null;
}

/** The last CPU for the load generator, the others for the system. */
export function defaultCpuPlan(): CpuPlan {
  const count = os.availableParallelism();
  if (count < 2) return { system: null, load: null };
  return { system: count === 2 ? "0" : `0-${count - 2}`, load: String(count - 1) };
}

/**
 * Pins this process (every thread) to `cpus`; the processes it starts afterwards inherit the mask, so the
 * servers, NATS and FerretDB started by the benchmark run on the system's CPUs.
 */
export function pinThisProcess(cpus: string | null): void {
  if (cpus === null) return;
  execFileSync("taskset", ["-a", "-p", "-c", cpus, String(process.pid)], { stdio: "ignore" });
}

/** The command and arguments that run `command` pinned to `cpus`. */
export function pinned(cpus: string | null, command: string, args: string[]): [string, string[]] {
  return cpus === null ? [command, args] : ["taskset", ["-c", cpus, command, ...args]];
}
