/**
 * What scripts/prometheus-e2e.ts expects of the dashboards and recording rules once traffic has run:
 * every expression returns at least one series, except the few below, which can only have data when
 * something fails. Each entry says why; an entry that matches no expression any more is reported, so the
 * list cannot silently outlive the panel it excuses.
 */
import path from "node:path";
import { dashboardExpressions, dashboardFiles, substitute } from "../check-dashboards.ts";

export interface AllowedEmpty {
  /** A dashboard file name (async-pipeline.json) or "*" for every dashboard. */
  dashboard: string;
  /** What check-dashboards names it after the file: `panel "<title>" target <refId>`, `annotation "<name>"`. */
  what: string;
  reason: string;
}

export const ALLOWED_EMPTY_PANELS: AllowedEmpty[] = [
  {
    dashboard: "async-pipeline.json",
    what: 'panel "Handler failures" target A',
    reason: "channel_messages_failed_total gets its first series when a channel handler throws",
  },
  {
    dashboard: "async-pipeline.json",
    what: 'panel "Handler failure ratio" target A',
    reason: "its numerator is channel_messages_failed_total, which has no series until a handler throws",
  },
  {
    dashboard: "async-pipeline.json",
    what: 'panel "Dead-lettered messages" target A',
    reason: "channel_messages_dead_lettered_total appears when a message exhausts its retries",
  },
  {
    dashboard: "async-pipeline.json",
    what: 'panel "Dead letters in the time range" target A',
    reason: "channel_messages_dead_lettered_total appears when a message exhausts its retries",
  },
  {
    dashboard: "async-pipeline.json",
    what: 'panel "Failed runs in the time range" target A',
    reason: 'job_runs_total{outcome="failure"} appears when a scheduled job throws',
  },
  {
    dashboard: "service-overview.json",
    what: 'panel "5xx ratio by route" target A',
    reason: 'its numerator selects status_class="5xx", which a healthy gateway never answers',
  },
  {
    dashboard: "service-overview.json",
    what: 'panel "Action server-error ratio by service" target A',
    reason: 'its numerator selects outcome="server_error" (an action that failed unexpectedly)',
  },
  {
    dashboard: "service-overview.json",
    what: 'panel "Firing alerts" target A',
    reason: 'ALERTS{alertstate="firing"} has series only while an alert fires; a healthy cluster fires none',
  },
  {
    dashboard: "*",
    what: 'annotation "Restarts"',
    reason: "changes(process_start_time_seconds[2m]) > 0 needs a process that restarted (crash, deploy)",
  },
];

/** Recording rules that may produce no series, by record name, with why. None so far. */
export const ALLOWED_EMPTY_RECORDS: Record<string, string> = {};

export interface ExpressionCheck {
  origin: string;
  /** The expression with the dashboard variables substituted ($service → .*). */
  expr: string;
  /** When every process exports its metrics (runtime metrics, up): the expression per service. */
  perService: ((service: string) => string) | null;
  allowedEmpty: AllowedEmpty | null;
}

/** Values for Grafana's variables: the e2e namespace, every service, windows that fit a short run. */
export function variableValues(namespace: string, now = Date.now()): Record<string, string> {
  return {
    namespace,
    service: ".*",
    __rate_interval: "1m",
    __interval: "2s",
    __interval_ms: "2000",
    __range: "5m",
    __range_s: "300",
    __range_ms: "300000",
    __from: String(now - 300_000),
    __to: String(now),
  };
}

/** Metrics every process exports (prom-client's defaults) and Prometheus' own `up`. */
const PER_PROCESS_METRIC = /^(process_|nodejs_|up$)/;

/** Names of the metrics an expression selects with a label matcher (`name{...}`). */
function selectedMetrics(expr: string): string[] {
  return [...expr.matchAll(/([A-Za-z_:][A-Za-z0-9_:]*)\s*\{/g)].map((match) => match[1]!);
}

export function allowedEmptyFor(origin: string): AllowedEmpty | null {
  // origin: "<dashboard file>: <what>", the file relative to the repo (or absolute outside it).
  const split = origin.indexOf(": ");
  const file = path.basename(origin.slice(0, split));
  const what = origin.slice(split + 2);
  return (
    ALLOWED_EMPTY_PANELS.find(
      (entry) => (entry.dashboard === "*" || entry.dashboard === file) && entry.what === what,
    ) ?? null
  );
}

/** One check per panel target, variable query and annotation of every dashboard. */
export function dashboardChecks(namespace: string, dir?: string): ExpressionCheck[] {
  const values = variableValues(namespace);
  const checks: ExpressionCheck[] = [];
  for (const file of dashboardFiles(dir)) {
    for (const source of dashboardExpressions(file)) {
      const { expr, unknown } = substitute(source.expr, values);
      if (unknown.length > 0) {
        throw new Error(`${source.origin}: unknown variable(s) ${unknown.map((n) => `$${n}`).join(", ")}`);
      }
      const metrics = selectedMetrics(source.expr);
      const perProcess =
        /\$\{?service\b/.test(source.expr) &&
        metrics.length > 0 &&
        metrics.every((name) => PER_PROCESS_METRIC.test(name));
      checks.push({
        origin: source.origin,
        expr,
        perService: perProcess ? (service) => substitute(source.expr, { ...values, service }).expr : null,
        allowedEmpty: allowedEmptyFor(source.origin),
      });
    }
  }
  return checks;
}

/** Allow-list entries that match no dashboard expression (a renamed panel, a removed dashboard). */
export function staleAllowListEntries(checks: ExpressionCheck[], dir?: string): AllowedEmpty[] {
  const files = new Set(dashboardFiles(dir).map((file) => path.basename(file)));
  return ALLOWED_EMPTY_PANELS.filter(
    (entry) =>
      (entry.dashboard !== "*" && !files.has(entry.dashboard)) ||
      !checks.some((check) => check.allowedEmpty === entry),
  );
}
