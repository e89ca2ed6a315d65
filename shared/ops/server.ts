import http from "node:http";
import type { AddressInfo } from "node:net";
import { readyCheckUp, registry } from "./metrics.ts";

export type ReadinessCheck = () => Promise<void>;

export interface ReadinessReport {
  ready: boolean;
  checks: Record<string, "ok" | string>;
}

const CHECK_TIMEOUT_MS = 2000;

function withTimeout(check: ReadinessCheck): Promise<void> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error("timed out")), CHECK_TIMEOUT_MS);
    check().then(
      () => {
        clearTimeout(timer);
        resolve();
      },
      (error: unknown) => {
        clearTimeout(timer);
        reject(error instanceof Error ? error : new Error(String(error)));
      },
    );
  });
}

/** Runs the named checks in parallel; a process that is draining is never ready. */
export async function runChecks(
  checks: Record<string, ReadinessCheck>,
  draining: boolean,
): Promise<ReadinessReport> {
  const entries = await Promise.all(
    Object.entries(checks).map(async ([name, check]) => {
      try {
        await withTimeout(check);
        return [name, "ok"] as const;
      } catch (error) {
        return [name, (error as Error).message || "failed"] as const;
      }
    }),
  );
  for (const [name, status] of entries) readyCheckUp.set({ check: name }, status === "ok" ? 1 : 0);
  const report: ReadinessReport = { ready: !draining, checks: Object.fromEntries(entries) };
  if (draining) report.checks.process = "shutting down";
  report.ready = Object.values(report.checks).every((value) => value === "ok");
  return report;
}

/**
 * The per-process operations endpoint on METRICS_PORT: `/metrics` (Prometheus), `/live` (the event
 * loop answers) and `/ready` (this process's database and message bus answer, and it is not draining).
 */
export class OpsServer {
  private readonly server: http.Server;
  private draining = false;
  private readonly checks: Record<string, ReadinessCheck>;

  constructor(checks: Record<string, ReadinessCheck>) {
    this.checks = checks;
    this.server = http.createServer((req, res) => void this.route(req, res));
  }

  async listen(port: number): Promise<number> {
    await new Promise<void>((resolve, reject) => {
      this.server.once("error", reject);
      this.server.listen(port, "0.0.0.0", () => resolve());
    });
    return (this.server.address() as AddressInfo).port;
  }

  /** From now on readiness fails, so load balancers stop sending work before the broker stops. */
  drain(): void {
    this.draining = true;
  }

  close(): Promise<void> {
    return new Promise((resolve) => this.server.close(() => resolve()));
  }

  private async route(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const path = (req.url ?? "/").split("?")[0];
    if (req.method !== "GET") return send(res, 405, "text/plain", "method not allowed");
    if (path === "/metrics") {
      // The readiness gauges are fresh on every scrape, not only when a probe asked.
      await runChecks(this.checks, this.draining);
      return send(res, 200, registry.contentType, await registry.metrics());
    }
    if (path === "/live") return send(res, 200, "application/json", JSON.stringify({ status: "ok" }));
    if (path === "/ready") {
      const report = await runChecks(this.checks, this.draining);
      return send(res, report.ready ? 200 : 503, "application/json", JSON.stringify(report));
    }
    send(res, 404, "text/plain", "not found");
  }
}

function send(res: http.ServerResponse, status: number, type: string, body: string): void {
  res.writeHead(status, { "Content-Type": type, "Cache-Control": "no-store" });
  res.end(body);
}
