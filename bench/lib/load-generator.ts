/**
 * The load generator, a process of its own (bench/lib/load.ts starts it pinned to its own CPU): reads a
 * LoadSpec as JSON from the file named by its first argument, warms up, measures, and prints one LoadResult
 * as JSON on stdout.
 *
 * - closed loop: autocannon, `connections` clients each sending its next request when the answer arrived.
 * - open loop (fixed rate): requests leave on a fixed schedule through a keep-alive pool of `connections`
 *   sockets, and each latency runs from the moment the request was due, not from when a socket was free.
 *   autocannon's own rate limit is not used for this: it lets each connection send its share of a second
 *   back to back, as soon as it can, which measures bursts of `connections` concurrent requests instead of
 *   a steady rate, and its latencies start when a request is sent, hiding the time it waited.
 */
import http from "node:http";
import { readFileSync } from "node:fs";
import autocannon from "autocannon";
import { percentile } from "./stats.ts";
import type { LatencySummary, LoadResult, LoadSpec, RequestTemplate } from "./load-spec.ts";

const REQUEST_TIMEOUT_MS = 10_000;

class Recorder {
  readonly latencies: number[] = [];
  readonly unexpected: Record<string, number> = {};
  completed = 0;
  sent = 0;
  errors = 0;
  private readonly expected: Set<number>;

  constructor(expected: number[]) {
    this.expected = new Set(expected);
  }

  answer(status: number, latencyMs: number): void {
    if (this.expected.has(status)) {
      this.completed += 1;
      this.latencies.push(latencyMs);
    } else {
      this.unexpected[status] = (this.unexpected[status] ?? 0) + 1;
    }
  }

  result(spec: LoadSpec, elapsedSec: number): LoadResult {
    return {
      mode: spec.mode,
      connections: spec.connections,
      rate: spec.rate ?? null,
      durationSec: round(elapsedSec),
      throughputRps: round(this.completed / elapsedSec),
      sentRps: round(this.sent / elapsedSec),
      completed: this.completed,
      unexpected: this.unexpected,
      errors: this.errors,
      latency: summarize(this.latencies),
    };
  }
}

function round(value: number): number {
  return Math.round(value * 1000) / 1000;
}

function summarize(latencies: number[]): LatencySummary | null {
  if (latencies.length === 0) return null;
  const sorted = [...latencies].sort((a, b) => a - b);
  return {
    p50Ms: round(percentile(sorted, 0.5)),
    p90Ms: round(percentile(sorted, 0.9)),
    p99Ms: round(percentile(sorted, 0.99)),
    maxMs: round(sorted[sorted.length - 1]!),
    meanMs: round(latencies.reduce((sum, x) => sum + x, 0) / latencies.length),
  };
}

function headersOf(template: RequestTemplate): Record<string, string> {
  return template.body === undefined
    ? { ...template.headers }
    : { ...template.headers, "content-type": "application/json" };
}

function closedLoop(spec: LoadSpec, durationSec: number): Promise<LoadResult> {
  const recorder = new Recorder(spec.expectStatus);
  let nextSession = 0;
  const steps = spec.sessions[0]!.length;
  const requests = Array.from({ length: steps }, (_, step) => ({
    setupRequest: (request: autocannon.Request, context: object) => {
      const connection = context as { session?: RequestTemplate[] };
      if (step === 0) connection.session = spec.sessions[nextSession++ % spec.sessions.length];
      const template = connection.session![step]!;
      recorder.sent += 1;
      return {
        ...request,
        method: template.method,
        path: template.path,
        headers: headersOf(template),
        body: template.body === undefined ? undefined : JSON.stringify(template.body),
      };
    },
  }));
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const instance = autocannon(
      {
        url: spec.origin,
        connections: spec.connections,
        duration: durationSec,
        timeout: REQUEST_TIMEOUT_MS / 1000,
        requests,
      },
      (error) => {
        if (error) reject(error);
        else resolve(recorder.result(spec, (performance.now() - started) / 1000));
      },
    );
    instance.on("response", (_client, statusCode, _bytes, responseTime) =>
      recorder.answer(statusCode, responseTime),
    );
    instance.on("reqError", () => (recorder.errors += 1));
  });
}

function openLoop(spec: LoadSpec, durationSec: number): Promise<LoadResult> {
  const rate = spec.rate ?? 0;
  if (rate <= 0) throw new Error("an open loop needs a rate");
  const recorder = new Recorder(spec.expectStatus);
  const agent = new http.Agent({ keepAlive: true, maxSockets: spec.connections });
  const { hostname, port } = new URL(spec.origin);
  const flat = spec.sessions.flat();
  const intervalMs = 1000 / rate;
  const total = Math.round(rate * durationSec);
  let outstanding = 0;

  const send = (index: number, dueAt: number, finished: () => void) => {
    const template = flat[index % flat.length]!;
    const body = template.body === undefined ? undefined : JSON.stringify(template.body);
    recorder.sent += 1;
    outstanding += 1;
    const done = () => {
      outstanding -= 1;
      finished();
    };
    const request = http.request(
      {
        agent,
        host: hostname,
        port,
        method: template.method,
        path: template.path,
        headers: headersOf(template),
        timeout: REQUEST_TIMEOUT_MS,
      },
      (response) => {
        response.resume();
        response.on("end", () => {
          recorder.answer(response.statusCode ?? 0, performance.now() - dueAt);
          done();
        });
      },
    );
    request.on("timeout", () => request.destroy(new Error("timeout")));
    request.on("error", () => {
      recorder.errors += 1;
      done();
    });
    request.end(body);
  };

  return new Promise((resolve) => {
    const started = performance.now();
    let next = 0;
    let ended = false;
    const finished = () => {
      if (ended && outstanding === 0) {
        agent.destroy();
        resolve(recorder.result(spec, durationSec));
      }
    };
    const tick = () => {
      const now = performance.now();
      while (next < total && started + next * intervalMs <= now) {
        send(next, started + next * intervalMs, finished);
        next += 1;
      }
      if (next < total) {
        setTimeout(tick, Math.max(0, started + next * intervalMs - performance.now()));
      } else {
        ended = true;
        finished();
      }
    };
    tick();
  });
}

function run(spec: LoadSpec, durationSec: number): Promise<LoadResult> {
  return spec.mode === "closed" ? closedLoop(spec, durationSec) : openLoop(spec, durationSec);
}

const spec = JSON.parse(readFileSync(process.argv[2]!, "utf8")) as LoadSpec;
if (spec.warmupSec > 0) await run(spec, spec.warmupSec);
process.stdout.write(`${JSON.stringify(await run(spec, spec.durationSec))}\n`);
