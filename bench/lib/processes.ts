/** Helpers for the benchmark's own processes: start-and-wait, CPU time read from /proc, waiting for idle. */
import { type ChildProcess, spawn } from "node:child_process";
import { readFile } from "node:fs/promises";
import type { WatchedProcess } from "./memory.ts";

/** Linux reports process CPU time in clock ticks of 1/100 s (USER_HZ) on every architecture Node runs on. */
const TICKS_PER_SECOND = 100;

export interface StartedProcess {
  child: ChildProcess;
  /** Milliseconds from spawn until the process printed "ready". */
  startMs: number;
  stop(): Promise<void>;
}

/** Runs `node <script>` with `env` and waits until it prints a line "ready". */
export function startNodeScript(script: string, env: Record<string, string>): Promise<StartedProcess> {
  const started = performance.now();
  const child = spawn(process.execPath, [script], {
    env: { ...process.env, ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let output = "";
  const stop = async () => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise((resolve) => child.once("exit", resolve));
    child.kill("SIGTERM");
    await exited;
  };
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      void stop();
      reject(new Error(`${script} not ready after 30 s: ${output.slice(-2000)}`));
    }, 30_000);
    child.stderr?.on("data", (chunk: Buffer) => (output += chunk.toString()));
    child.stdout?.on("data", (chunk: Buffer) => {
      output += chunk.toString();
      if (/^ready$/m.test(output)) {
        clearTimeout(timer);
        resolve({ child, startMs: performance.now() - started, stop });
      }
    });
    child.once("exit", (code) => {
      clearTimeout(timer);
      reject(new Error(`${script} exited with ${code}: ${output.slice(-2000)}`));
    });
  });
}

/** User + system CPU seconds a process has used so far, or 0 once it is gone. */
async function cpuSeconds(pid: number): Promise<number> {
  try {
    const stat = await readFile(`/proc/${pid}/stat`, "utf8");
    // Fields after the command name, which is in parentheses and may hold spaces.
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    return (Number(fields[11]) + Number(fields[12])) / TICKS_PER_SECOND;
  } catch {
    return 0;
  }
}

/**
 * Waits until the processes together use less than `idleShare` of one CPU over two consecutive half
 * seconds: the work a measurement left behind (queued requests, consumers catching up) must not be
 * charged to the next one. Returns how long it waited (ms), at most `timeoutMs`.
 */
export async function waitForIdle(
  processes: () => WatchedProcess[],
  idleShare = 0.2,
  timeoutMs = 120_000,
): Promise<number> {
  const started = performance.now();
  const total = async () =>
    (await Promise.all(processes().map(({ pid }) => cpuSeconds(pid)))).reduce((sum, x) => sum + x, 0);
  let quiet = 0;
  let before = await total();
  while (quiet < 2 && performance.now() - started < timeoutMs) {
    await new Promise((resolve) => setTimeout(resolve, 500));
    const after = await total();
    quiet = after - before < idleShare * 0.5 ? quiet + 1 : 0;
    before = after;
  }
  return Math.round(performance.now() - started);
}
