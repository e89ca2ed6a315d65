/** What the benchmark measures, shared by bench/cost-growth.ts and bench/profile-summary.ts. */

/** SMALL: 10 earlier activities; LARGE: 10,000; CONTROL: a SMALL goal alone on a second server. */
export type Role = "small" | "large" | "control";

/** log: POST /goals/:id/activities {}; read: GET /goals/:id. */
export type Operation = "log" | "read";

/**
 * When a measured block ran, in microseconds of the monotonic clock (`process.hrtime`), which is the
 * clock of V8's CPU profiles too: bench/profile-summary.ts cuts the servers' profiles along these.
 */
export interface Window {
  role: Role;
  operation: Operation;
  round: number;
  startUs: number;
  endUs: number;
}
