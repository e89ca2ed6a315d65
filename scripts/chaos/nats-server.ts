import { type ChildProcess, spawn } from "node:child_process";
import { createWriteStream } from "node:fs";
import { reachable } from "../ports.ts";

/**
 * A private nats-server with JetStream, owned by one run: it can be killed and started again on the same
 * port and store directory, which a shared NATS must never be.
 */
export class NatsServer {
  readonly url: string;
  private readonly port: number;
  private readonly storeDir: string;
  private readonly logFile: string;
  private child: ChildProcess | null = null;

  constructor(options: { port: number; storeDir: string; logFile: string }) {
    this.port = options.port;
    this.storeDir = options.storeDir;
    this.logFile = options.logFile;
    this.url = `nats://127.0.0.1:${options.port}`;
  }

  get pid(): number | null {
    return this.child?.pid ?? null;
  }

  async start(timeoutMs = 20_000): Promise<void> {
    const child = spawn(
      "nats-server",
      ["-a", "127.0.0.1", "-p", String(this.port), "-js", "-sd", this.storeDir],
      { stdio: ["ignore", "pipe", "pipe"] },
    );
    const log = createWriteStream(this.logFile, { flags: "a" });
    child.stdout?.pipe(log);
    child.stderr?.pipe(log);
    this.child = child;
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      if (child.exitCode !== null) throw new Error(`nats-server exited at start (code ${child.exitCode})`);
      if (await reachable(this.url)) return;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    throw new Error(`nats-server did not accept connections on ${this.url} within ${timeoutMs} ms`);
  }

  /** SIGKILL by default: a crash, not a clean shutdown. */
  async stop(signal: "SIGKILL" | "SIGTERM" = "SIGKILL"): Promise<void> {
    const child = this.child;
    if (!child) return;
    this.child = null;
    if (child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
    child.kill(signal);
    const timer = setTimeout(() => child.kill("SIGKILL"), 10_000);
    await exited;
    clearTimeout(timer);
  }
}
