/**
 * A private nats-server with JetStream for one benchmark run: on a free port, with a store of its own, and
 * started by this process so that it inherits the system's CPU mask (the shared one on 4222 does not).
 */
import { type ChildProcess, spawn } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { freePort, reachable } from "../../scripts/ports.ts";

export interface NatsServer {
  url: string;
  pid: number;
  stop(): Promise<void>;
}

export async function startNatsServer(): Promise<NatsServer> {
  const storeDir = await mkdtemp(path.join(os.tmpdir(), "goal-tracker-bench-nats-"));
  const port = await freePort();
  const url = `nats://127.0.0.1:${port}`;
  const child: ChildProcess = spawn(
    "nats-server",
    ["-a", "127.0.0.1", "-p", String(port), "-js", "-sd", storeDir],
    {
      stdio: "ignore",
    },
  );
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) {
      const exited = new Promise((resolve) => child.once("exit", resolve));
      child.kill("SIGTERM");
      await exited;
    }
    await rm(storeDir, { recursive: true, force: true });
  };
  const deadline = Date.now() + 10_000;
  while (!(await reachable(url))) {
    if (child.exitCode !== null || Date.now() > deadline) {
      await stop();
      throw new Error(`nats-server did not start on ${url} (is it installed?)`);
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  return { url, pid: child.pid!, stop };
}
