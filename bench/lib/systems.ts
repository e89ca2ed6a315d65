/**
 * The system under test, started in its own process(es) so that the load generator (the benchmark
 * script) never shares an event loop with the server: `node index.ts` (embedded) or one process per
 * service on NATS (cluster, scripts/cluster-lib.ts).
 */
import { type ChildProcess, spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { createWriteStream } from "node:fs";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { connect } from "nats";
import { generateKeyPair } from "../../shared/auth/keys.ts";
import { ALL_SERVICES } from "../../shared/config.ts";
import { Cluster } from "../../scripts/cluster-lib.ts";
import { freePort, freePortRange } from "../../scripts/ports.ts";

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");

export type Topology = "embedded" | "cluster";

export interface SystemOptions {
  /** Shown in logs and file names. */
  label: string;
  /** When set, every server process writes a V8 CPU profile into this directory when it stops. */
  cpuProfDir?: string;
  /** Sampling interval of those profiles (µs), CPU_PROF_INTERVAL_US unless set. */
  cpuProfIntervalUs?: number;
  natsUrl: string;
  /** Cluster only: every service stores in this MongoDB-compatible server instead of its own NeDB files. */
  mongoUrl?: string;
}

/** A process of the system, for memory readings. */
export interface SystemProcess {
  name: string;
  pid: number;
}

export interface RunningSystem {
  topology: Topology;
  label: string;
  /** http://127.0.0.1:<port>/api/v1 */
  baseUrl: string;
  /** Where the server output goes. */
  logDir: string;
  /** Every process's ops port (/metrics, /ready). */
  metricsPorts(): number[];
  processes(): SystemProcess[];
  /**
   * Cold start: stops one process (SIGTERM; `name` is a service, or "all" for the embedded process), starts
   * it again on the same data and returns the milliseconds from spawn until its /ready answered 200.
   */
  restart(name: string): Promise<number>;
  stop(): Promise<void>;
}

/** Sampling interval of the CPU profiles (µs): a request takes 1–3 ms, the default 1000 is too coarse. */
const CPU_PROF_INTERVAL_US = 100;

/** Settings every benchmarked system shares: rate limit off, quiet logs. */
const BENCH_ENV = { RATE_LIMIT_PER_MINUTE: "0", LOG_LEVEL: "warn" };

function profileOptions(options: SystemOptions): Record<string, string> {
  if (!options.cpuProfDir) return {};
  return {
    NODE_OPTIONS: `--cpu-prof --cpu-prof-interval=${options.cpuProfIntervalUs ?? CPU_PROF_INTERVAL_US} --cpu-prof-dir=${options.cpuProfDir}`,
  };
}

async function waitForHealth(baseUrl: string, timeoutMs: number, exited: () => boolean): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let last = "no answer";
  while (Date.now() < deadline) {
    if (exited()) throw new Error(`the server exited before ${baseUrl}/health answered`);
    try {
      const response = await fetch(`${baseUrl}/health`, { signal: AbortSignal.timeout(1000) });
      await response.text();
      if (response.status === 200) return;
      last = `status ${response.status}`;
    } catch (error) {
      last = String(error);
    }
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  throw new Error(`${baseUrl}/health not 200 after ${timeoutMs} ms: ${last}`);
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

async function tail(file: string, lines = 30): Promise<string> {
  try {
    return (await readFile(file, "utf8")).split("\n").slice(-lines).join("\n");
  } catch {
    return "(no output)";
  }
}

/** Polls an ops server's /ready until it answers 200. */
async function waitForReady(metricsPort: number, timeoutMs: number, exited: () => boolean): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (exited()) throw new Error(`the process of ops port ${metricsPort} exited before it was ready`);
    try {
      const response = await fetch(`http://127.0.0.1:${metricsPort}/ready`, {
        signal: AbortSignal.timeout(1000),
      });
      await response.text();
      if (response.status === 200) return;
    } catch {
      // not listening yet
    }
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  throw new Error(`ops port ${metricsPort} not ready after ${timeoutMs} ms`);
}

async function stopChild(child: ChildProcess): Promise<void> {
  child.kill("SIGTERM");
  if (!(await waitForExit(child, 20_000))) {
    child.kill("SIGKILL");
    await waitForExit(child, 5000);
  }
}

/** `node index.ts`: every service in one process, NeDB files in a fresh DATA_DIR, in-memory bus. */
export async function startEmbedded(options: SystemOptions): Promise<RunningSystem> {
  const dataDir = await mkdtemp(path.join(os.tmpdir(), `goal-tracker-bench-${options.label}-`));
  const port = await freePort();
  const metricsPort = await freePort();
  const logFile = path.join(dataDir, "server.log");
  const output = createWriteStream(logFile);
  const spawnServer = () => {
    const started = performance.now();
    const server = spawn(process.execPath, [path.join(ROOT, "index.ts")], {
      cwd: ROOT,
      env: {
        ...process.env,
        ...BENCH_ENV,
        ...profileOptions(options),
        DATA_DIR: path.join(dataDir, "data"),
        PORT: String(port),
        METRICS_PORT: String(metricsPort),
      },
      stdio: ["ignore", "pipe", "pipe"],
    });
    server.stdout?.pipe(output, { end: false });
    server.stderr?.pipe(output, { end: false });
    return { server, started };
  };
  let { server: child } = spawnServer();
  const baseUrl = `http://127.0.0.1:${port}/api/v1`;
  const stop = async () => {
    await stopChild(child);
    output.end();
    await rm(dataDir, { recursive: true, force: true });
  };
  try {
    // /health answers as soon as the gateway listens; the ops server's /ready once every service started.
    await waitForHealth(baseUrl, 30_000, () => child.exitCode !== null);
    await waitForReady(metricsPort, 30_000, () => child.exitCode !== null);
  } catch (error) {
    console.error(await tail(logFile));
    await stop();
    throw error;
  }
  return {
    topology: "embedded",
    label: options.label,
    baseUrl,
    logDir: dataDir,
    metricsPorts: () => [metricsPort],
    processes: () => (child.pid ? [{ name: "all services", pid: child.pid }] : []),
    async restart() {
      await stopChild(child);
      const next = spawnServer();
      child = next.server;
      await waitForReady(metricsPort, 30_000, () => next.server.exitCode !== null);
      return performance.now() - next.started;
    },
    stop,
  };
}

/** The JetStream streams of a namespace (see shared/bus/jetstream.ts), removed after the run. */
async function removeNamespaceStreams(natsUrl: string, namespace: string): Promise<void> {
  const connection = await connect({ servers: natsUrl });
  try {
    const jsm = await connection.jetstreamManager();
    const token = namespace.replace(/[^A-Za-z0-9]/g, "_").toUpperCase();
    for (const stream of [`${token}_EVENTS`, `${token}_DEAD_LETTERS`]) {
      await jsm.streams.delete(stream).catch(() => undefined);
    }
  } finally {
    await connection.close();
  }
}

/**
 * One process per service on NATS (transporter and JetStream channels), each service with its own NeDB
 * files, in a namespace of its own so that it does not meet other systems on the same NATS.
 */
export async function startCluster(options: SystemOptions): Promise<RunningSystem> {
  const dataDir = await mkdtemp(path.join(os.tmpdir(), `goal-tracker-bench-${options.label}-`));
  const namespace = `bench-${options.label}-${randomBytes(4).toString("hex")}`.slice(0, 32);
  const keys = generateKeyPair();
  const metricsBasePort = await freePortRange(ALL_SERVICES.length);
  const cluster = new Cluster({
    env: {
      ...BENCH_ENV,
      ...profileOptions(options),
      TRANSPORTER: options.natsUrl,
      CHANNELS_URL: options.natsUrl,
      NAMESPACE: namespace,
      JWT_PRIVATE_KEY: keys.privateKey,
      JWT_PUBLIC_KEY: keys.publicKey,
      ...(options.mongoUrl ? { MONGO_URL: `${options.mongoUrl}${namespace.replace(/-/g, "_")}` } : {}),
    },
    gatewayPort: await freePort(),
    metricsBasePort,
    dataDir,
    logDir: dataDir,
  });
  const stop = async () => {
    await cluster.stop();
    await removeNamespaceStreams(options.natsUrl, namespace).catch((error: unknown) =>
      console.warn(`could not remove the streams of ${namespace}: ${String(error)}`),
    );
    await rm(dataDir, { recursive: true, force: true });
  };
  try {
    await cluster.start();
    await waitForHealth(cluster.gatewayUrl, 30_000, () => false);
  } catch (error) {
    for (const service of ALL_SERVICES) {
      console.error(`--- ${service}\n${await tail(path.join(dataDir, `${service}.log`), 10)}`);
    }
    await stop();
    throw error;
  }
  return {
    topology: "cluster",
    label: options.label,
    baseUrl: cluster.gatewayUrl,
    logDir: dataDir,
    metricsPorts: () => ALL_SERVICES.map((_, index) => metricsBasePort + index),
    processes: () =>
      [...cluster.processes.values()].flatMap(({ service, child }) =>
        child.pid ? [{ name: service, pid: child.pid }] : [],
      ),
    async restart(name: string) {
      const service = ALL_SERVICES.find((candidate) => candidate === name);
      if (!service) throw new Error(`no service ${name}`);
      await cluster.stopService(service);
      const started = performance.now();
      await cluster.startService(service);
      return performance.now() - started;
    },
    stop,
  };
}

export function startSystem(topology: Topology, options: SystemOptions): Promise<RunningSystem> {
  return topology === "cluster" ? startCluster(options) : startEmbedded(options);
}
