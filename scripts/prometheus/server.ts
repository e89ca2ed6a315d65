/**
 * A throwaway Prometheus server for scripts/prometheus-e2e.ts: writes its config (one static target per
 * process, the repo's rule files), starts /usr/bin/prometheus on a loopback port and queries its HTTP API.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { createWriteStream, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import { stringify as stringifyYaml } from "yaml";

export interface ScrapeTarget {
  /** host:port of the process's ops server (it serves /metrics). */
  address: string;
  labels: Record<string, string>;
}

export interface PrometheusConfigOptions {
  job: string;
  targets: ScrapeTarget[];
  /** Absolute paths of rule files. */
  ruleFiles: string[];
  /** Scrape and rule evaluation interval, seconds. */
  intervalSeconds: number;
}

/** The config as YAML: the compose file's job, with static targets that carry their own labels. */
export function prometheusConfig(options: PrometheusConfigOptions): string {
  const interval = `${options.intervalSeconds}s`;
  return stringifyYaml(
    {
      global: { scrape_interval: interval, scrape_timeout: interval, evaluation_interval: interval },
      rule_files: options.ruleFiles,
      scrape_configs: [
        {
          job_name: options.job,
          metrics_path: "/metrics",
          static_configs: options.targets.map((target) => ({
            targets: [target.address],
            labels: target.labels,
          })),
        },
      ],
    },
    { lineWidth: 0 },
  );
}

/** One series of an instant vector. */
export interface Sample {
  metric: Record<string, string>;
  value: [number, string];
}

export interface QueryResult {
  /** The series of a vector result; a scalar or string result counts as one series without labels. */
  series: Sample[];
  error: string | null;
}

export interface TargetInfo {
  labels: Record<string, string>;
  scrapeUrl: string;
  health: "up" | "down" | "unknown";
  lastError: string;
  lastScrape: string;
}

export interface RuleInfo {
  name: string;
  type: "recording" | "alerting";
  health: string;
  lastError?: string;
  state?: string;
}

export interface PrometheusOptions {
  binary?: string;
  /** Config, TSDB and log go below this directory. */
  dir: string;
  port: number;
  config: string;
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

export class Prometheus {
  readonly url: string;
  private readonly options: PrometheusOptions;
  private child: ChildProcess | null = null;

  constructor(options: PrometheusOptions) {
    this.options = options;
    this.url = `http://127.0.0.1:${options.port}`;
  }

  get logFile(): string {
    return path.join(this.options.dir, "prometheus.log");
  }

  /** Starts the server and waits for /-/ready (the config and rule files loaded, the TSDB open). */
  async start(timeoutMs = 30_000): Promise<void> {
    const { dir, port } = this.options;
    mkdirSync(path.join(dir, "tsdb"), { recursive: true });
    const configFile = path.join(dir, "prometheus.yml");
    writeFileSync(configFile, this.options.config);
    const log = createWriteStream(this.logFile, { flags: "a" });
    const child = spawn(
      this.options.binary ?? "/usr/bin/prometheus",
      [
        `--config.file=${configFile}`,
        `--storage.tsdb.path=${path.join(dir, "tsdb")}`,
        `--web.listen-address=127.0.0.1:${port}`,
        "--log.level=warn",
      ],
      { stdio: ["ignore", "pipe", "pipe"] },
    );
    this.child = child;
    child.stdout?.pipe(log);
    child.stderr?.pipe(log);
    const spawnError = new Promise<Error>((resolve) => child.once("error", resolve));
    const deadline = Date.now() + timeoutMs;
    let last = "no answer";
    while (Date.now() < deadline) {
      const failed = await Promise.race([spawnError, sleep(200).then(() => null)]);
      if (failed) throw new Error(`cannot start prometheus: ${failed.message}`);
      if (child.exitCode !== null) {
        throw new Error(`prometheus exited (code ${child.exitCode}):\n${this.tail()}`);
      }
      try {
        const response = await fetch(`${this.url}/-/ready`, { signal: AbortSignal.timeout(1000) });
        if (response.ok) return;
        last = `${response.status}`;
      } catch (error) {
        last = String(error);
      }
    }
    throw new Error(`prometheus not ready after ${timeoutMs} ms (${last}):\n${this.tail()}`);
  }

  /** The last lines of the server's log, for messages. */
  tail(lines = 20): string {
    try {
      return readFileSync(this.logFile, "utf8").trimEnd().split("\n").slice(-lines).join("\n");
    } catch {
      return "(no log)";
    }
  }

  async stop(): Promise<void> {
    const child = this.child;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
    child.kill("SIGTERM");
    const timer = setTimeout(() => child.kill("SIGKILL"), 10_000);
    await exited;
    clearTimeout(timer);
  }

  private async api<T>(pathAndQuery: string, form?: Record<string, string>): Promise<T> {
    const response = await fetch(`${this.url}/api/v1/${pathAndQuery}`, {
      method: form ? "POST" : "GET",
      headers: form ? { "content-type": "application/x-www-form-urlencoded" } : {},
      body: form ? new URLSearchParams(form).toString() : undefined,
      signal: AbortSignal.timeout(15_000),
    });
    const body = (await response.json()) as { status: string; data?: T; error?: string; errorType?: string };
    if (body.status !== "success") throw new Error(`${body.errorType ?? response.status}: ${body.error}`);
    return body.data as T;
  }

  /** An instant query now; errors (parse, execution) come back in `error`, not thrown. */
  async query(expr: string): Promise<QueryResult> {
    try {
      const data = await this.api<{ resultType: string; result: unknown }>("query", { query: expr });
      if (data.resultType === "vector" || data.resultType === "matrix") {
        return { series: data.result as Sample[], error: null };
      }
      return { series: [{ metric: {}, value: data.result as [number, string] }], error: null };
    } catch (error) {
      return { series: [], error: (error as Error).message };
    }
  }

  async targets(): Promise<TargetInfo[]> {
    return (await this.api<{ activeTargets: TargetInfo[] }>("targets?state=active")).activeTargets;
  }

  async rules(): Promise<RuleInfo[]> {
    const data = await this.api<{ groups: { rules: RuleInfo[] }[] }>("rules");
    return data.groups.flatMap((group) => group.rules);
  }
}
