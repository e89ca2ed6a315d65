/** What the benchmark asks of the load generator (bench/lib/load-generator.ts) and what it answers. */

export interface RequestTemplate {
  method: "GET" | "POST" | "PATCH" | "DELETE";
  /** Path and query, e.g. /api/v1/goals/abc */
  path: string;
  headers?: Record<string, string>;
  /** Sent as JSON. */
  body?: unknown;
}

export interface LoadSpec {
  /** http://127.0.0.1:<port> */
  origin: string;
  /**
   * Sessions of equal length. A closed-loop connection takes the next session and plays it step by step,
   * then takes the next one; the open loop sends the sessions' requests one after another at the rate.
   * A scenario of single requests is a list of one-step sessions (one per user or goal).
   */
  sessions: RequestTemplate[][];
  /** closed: `connections` clients, each sending its next request as soon as the answer arrived. */
  mode: "closed" | "open";
  connections: number;
  /** open: requests per second, sent on schedule whether or not earlier answers arrived. */
  rate?: number;
  warmupSec: number;
  durationSec: number;
  /** The status every request of this scenario must get (201 for logs, 200 otherwise). */
  expectStatus: number[];
}

export interface LatencySummary {
  p50Ms: number;
  p90Ms: number;
  p99Ms: number;
  maxMs: number;
  meanMs: number;
}

export interface LoadResult {
  mode: LoadSpec["mode"];
  connections: number;
  rate: number | null;
  durationSec: number;
  /** Answers with an expected status, per second of the measured window. */
  throughputRps: number;
  /** Requests sent per second (open loop: how close the generator came to the rate). */
  sentRps: number;
  completed: number;
  /** Answers with another status, by status. */
  unexpected: Record<string, number>;
  /** No answer: connection errors and timeouts. */
  errors: number;
  latency: LatencySummary | null;
}
