/** What each injected fault cost the clients, measured from the recorded attempts. */
import type { Attempt, Outcome } from "./load.ts";

export interface FaultRecord {
  name: string;
  /** Instants are Date.now() values, as the attempts' are. */
  injectedAt: number;
  /** When the restart was issued (the end of the deliberate outage). */
  restartedAt: number;
  /** When the restarted part answered again (its readiness endpoint, or its port). */
  readyAt: number;
  /** The next fault's injection, or the end of the load. */
  windowEnd: number;
}

/**
 * A request is counted in the window it was sent in; a failure or a slow answer in the window it was
 * answered in, since a request in flight when a fault strikes fails because of that fault. This holds
 * when a window outlasts the stalls a fault causes (up to the 15 s call timeout), as in the full run.
 */
export interface FaultReport {
  name: string;
  /** When it was injected, in seconds since `origin` (the start of the run). */
  injectedAtSeconds: number;
  downForMs: number;
  /** From the restart until the restarted part was ready. */
  backInMs: number;
  requests: number;
  failures: { "5xx": number; "no-answer": number; "4xx": number };
  /** Answers that took 5 s or more, whatever they were (a call to a dead node waits up to 15 s). */
  slow: number;
  /** From ready until the first 2xx of a request sent after it (in this window or later). */
  firstSuccessAfterReadyMs: number | null;
  /** From ready until the last failure of the window (0 when none came after ready). */
  errorsEndedAfterReadyMs: number;
  /** From the injection until the last failure of the window (0 when none failed). */
  recoveredAfterInjectionMs: number;
}

const SLOW_MS = 5000;
const isFailure = (outcome: Outcome) => outcome === "5xx" || outcome === "no-answer";

export function faultReport(fault: FaultRecord, attempts: readonly Attempt[], origin: number): FaultReport {
  const within = (instant: number) => instant >= fault.injectedAt && instant < fault.windowEnd;
  const failures = { "5xx": 0, "no-answer": 0, "4xx": 0 };
  let requests = 0;
  let lastFailureEnd: number | null = null;
  let slow = 0;
  let firstSuccess: number | null = null;
  for (const attempt of attempts) {
    if (within(attempt.startedAt)) requests += 1;
    if (within(attempt.endedAt)) {
      if (attempt.outcome !== "2xx") failures[attempt.outcome] += 1;
      if (isFailure(attempt.outcome)) lastFailureEnd = Math.max(lastFailureEnd ?? 0, attempt.endedAt);
      if (attempt.endedAt - attempt.startedAt >= SLOW_MS) slow += 1;
    }
    if (attempt.outcome === "2xx" && attempt.startedAt >= fault.readyAt) {
      firstSuccess = Math.min(firstSuccess ?? Infinity, attempt.endedAt);
    }
  }
  return {
    name: fault.name,
    injectedAtSeconds: Math.round((fault.injectedAt - origin) / 100) / 10,
    downForMs: fault.restartedAt - fault.injectedAt,
    backInMs: fault.readyAt - fault.restartedAt,
    requests,
    failures,
    slow,
    firstSuccessAfterReadyMs: firstSuccess === null ? null : firstSuccess - fault.readyAt,
    errorsEndedAfterReadyMs: lastFailureEnd === null ? 0 : Math.max(0, lastFailureEnd - fault.readyAt),
    recoveredAfterInjectionMs: lastFailureEnd === null ? 0 : lastFailureEnd - fault.injectedAt,
  };
}
