import { type ChildProcess, spawn } from "node:child_process";
import { createWriteStream, mkdirSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { ALL_SERVICES, type ServiceName } from "../shared/config.ts";

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const ENTRY = path.join(ROOT, "index.ts");

export interface ClusterOptions {
  /** Environment shared by every process: TRANSPORTER, CHANNELS_URL, MONGO_URL, NAMESPACE, JWT keys, … */
  env: Record<string, string>;
  gatewayPort: number;
  /** Service n gets METRICS_PORT = metricsBasePort + n. */
  metricsBasePort: number;
  /** Each service keeps its own DATA_DIR below this one. */
  dataDir: string;
  /** Where each process's output goes (`<service>.log`); printed with a prefix when absent. */
  logDir?: string;
  services?: readonly ServiceName[];
  readyTimeoutMs?: number;
}

export interface ClusterProcess {
  service: ServiceName;
  metricsPort: number;
  child: ChildProcess;
}

async function waitUntilReady(url: string, timeoutMs: number, exited: () => boolean): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let last = "no answer";
  while (Date.now() < deadline) {
    if (exited()) throw new Error(`process exited before ${url} was ready`);
    try {
      const response = await fetch(url, { signal: AbortSignal.timeout(1000) });
      if (response.ok) return;
      last = `${response.status} ${await response.text()}`;
    } catch (error) {
      last = String(error);
    }
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  throw new Error(`${url} not ready after ${timeoutMs} ms: ${last}`);
}

function waitForExit(child: ChildProcess, timeoutMs: number): Promise<boolean> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve(true);
  return new Promise((resolve) => {
    const timer = setTimeout(() => resolve(false), timeoutMs);
    child.once("exit", () => {
      clearTimeout(timer);
      resolve(true);
    });
  });
}

/** One process per service on this machine, the same topology as the Kubernetes deployment. */
export class Cluster {
  readonly processes = new Map<ServiceName, ClusterProcess>();
  private readonly options: ClusterOptions;

  constructor(options: ClusterOptions) {
    this.options = options;
  }

  get gatewayUrl(): string {
    return `http://127.0.0.1:${this.options.gatewayPort}/api/v1`;
  }

  async start(): Promise<void> {
    const services = this.options.services ?? ALL_SERVICES;
    await Promise.all(services.map((service) => this.startService(service)));
    if (services.includes("gateway")) {
      await waitUntilReady(`${this.gatewayUrl}/ready`, this.options.readyTimeoutMs ?? 30_000, () => false);
    }
  }

  async startService(service: ServiceName): Promise<ClusterProcess> {
    const index = ALL_SERVICES.indexOf(service);
    const metricsPort = this.options.metricsBasePort + index;
    const dataDir = path.join(this.options.dataDir, service);
    mkdirSync(dataDir, { recursive: true });
    const child = spawn(process.execPath, [ENTRY], {
      cwd: ROOT,
      env: {
        ...process.env,
        ...this.options.env,
        SERVICES: service,
        DATA_DIR: dataDir,
        PORT: String(this.options.gatewayPort),
        METRICS_PORT: String(metricsPort),
        NODE_ID: `${this.options.env.NAMESPACE ?? "goal-tracker"}-${service}`,
      },
      stdio: ["ignore", "pipe", "pipe"],
    });
    this.pipeOutput(service, child);
    const entry = { service, metricsPort, child };
    this.processes.set(service, entry);
    await waitUntilReady(
      `http://127.0.0.1:${metricsPort}/ready`,
      this.options.readyTimeoutMs ?? 30_000,
      () => child.exitCode !== null,
    );
    return entry;
  }

  /** SIGTERM (a graceful drain) or SIGKILL (a crash) for one service. */
  async stopService(service: ServiceName, signal: "SIGTERM" | "SIGKILL" = "SIGTERM"): Promise<void> {
    const entry = this.processes.get(service);
    if (!entry) return;
    entry.child.kill(signal);
    if (!(await waitForExit(entry.child, 15_000))) {
      entry.child.kill("SIGKILL");
      await waitForExit(entry.child, 5000);
    }
    this.processes.delete(service);
  }

  async stop(): Promise<void> {
    // The gateway first, so that no request arrives at a service that is going away.
    if (this.processes.has("gateway")) await this.stopService("gateway");
    await Promise.all([...this.processes.keys()].map((service) => this.stopService(service)));
  }

  private pipeOutput(service: ServiceName, child: ChildProcess): void {
    if (this.options.logDir) {
      mkdirSync(this.options.logDir, { recursive: true });
      const file = createWriteStream(path.join(this.options.logDir, `${service}.log`), { flags: "a" });
      child.stdout?.pipe(file);
      child.stderr?.pipe(file);
      return;
    }
    for (const stream of [child.stdout, child.stderr]) {
      stream?.on("data", (chunk: Buffer) => {
        for (const line of chunk.toString().split("\n").filter(Boolean))
          process.stdout.write(`[${service}] ${line}\n`);
      });
    }
  }
}
