/**
 * Checks that every metric the dashboards and the alert rules query is exported by the processes.
 *
 *   node scripts/check-metric-names.ts [--allow-pending name1,name2] [--wait 30] URL...
 *   node scripts/check-metric-names.ts http://127.0.0.1:9100/metrics
 *
 * It collects the metric names of every expression of grafana/dashboards/*.json and
 * grafana/prometheus/rules/*.yml (see scripts/check-dashboards.ts), leaving out the names the recording
 * rules define and the series Prometheus makes itself (up, ALERTS, scrape_*). It scrapes each URL (the
 * union counts: in the cluster each process exports its own metrics) and reports every used name that
 * none exports. A histogram `foo` exports foo_bucket, foo_sum and foo_count; a summary foo_sum and foo_count.
 *
 * --allow-pending lists names announced but not exported yet (base names: `job_duration_seconds` covers
 * its _bucket/_sum/_count): they are reported, not failed. --wait retries a URL that does not answer yet
 * for that many seconds. Exits 1 when a used name is missing, 2 when it cannot run.
 */
import { parseArgs } from "node:util";
import {
  collectExpressions,
  DEFAULT_DASHBOARDS,
  DEFAULT_RULES,
  type PromqlSource,
} from "./check-dashboards.ts";

/** Series Prometheus writes itself: scrape health and alert state. */
const PROMETHEUS_SERIES = new Set([
  "up",
  "ALERTS",
  "ALERTS_FOR_STATE",
  "scrape_duration_seconds",
  "scrape_samples_scraped",
  "scrape_samples_post_metric_relabeling",
  "scrape_series_added",
  "scrape_timeout_seconds",
  "scrape_sample_limit",
  "scrape_body_size_bytes",
]);

/** PromQL words that look like identifiers: operators, modifiers, aggregations, literals. */
const KEYWORDS = new Set([
  "and",
  "or",
  "unless",
  "by",
  "without",
  "on",
  "ignoring",
  "group_left",
  "group_right",
  "bool",
  "offset",
  "atan2",
  "inf",
  "nan",
  "sum",
  "min",
  "max",
  "avg",
  "group",
  "stddev",
  "stdvar",
  "count",
  "count_values",
  "bottomk",
  "topk",
  "quantile",
  "limitk",
  "limit_ratio",
]);

const SUFFIXES = ["_bucket", "_sum", "_count"];

/** The metric names a PromQL expression selects (functions, labels, keywords and numbers left out). */
export function metricNames(expr: string): string[] {
  const names = new Set<string>();
  // {__name__="foo"} selects foo (regex matchers on __name__ are left out).
  for (const match of expr.matchAll(/__name__\s*=\s*"([^"]+)"/g)) names.add(match[1]!);
  const stripped = expr
    .replace(/"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'|`[^`]*`/g, '""') // strings
    .replace(/\{[^}]*\}/g, " ") // label matchers
    .replace(/\[[^\]]*\]/g, " ") // ranges and subqueries
    .replace(/\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)/g, " ") // grouping labels
    .replace(/#.*$/gm, " "); // comments
  const token = /[A-Za-z_:][A-Za-z0-9_:]*|[0-9][0-9A-Za-z_.]*/g;
  for (const match of stripped.matchAll(token)) {
    const word = match[0];
    if (/^[0-9]/.test(word) || KEYWORDS.has(word.toLowerCase())) continue;
    const rest = stripped.slice(match.index + word.length);
    if (/^\s*\(/.test(rest)) continue; // a function call
    names.add(word);
  }
  return [...names];
}

/** Names a /metrics page exports: every sample name, plus the series each # TYPE line implies. */
export function exportedNames(exposition: string): { names: Set<string>; metrics: number } {
  const names = new Set<string>();
  let metrics = 0;
  for (const line of exposition.split("\n")) {
    const type = /^# TYPE (\S+) (\S+)/.exec(line);
    if (type) {
      const [, name, kind] = type as unknown as [string, string, string];
      metrics++;
      names.add(name);
      if (kind === "histogram") for (const suffix of SUFFIXES) names.add(name + suffix);
      if (kind === "summary") for (const suffix of ["_sum", "_count"]) names.add(name + suffix);
      if (kind === "counter" && !name.endsWith("_total")) names.add(`${name}_total`); // OpenMetrics
      continue;
    }
    const sample = /^([A-Za-z_:][A-Za-z0-9_:]*)[\s{]/.exec(line);
    if (sample) names.add(sample[1]!);
  }
  return { names, metrics };
}

function baseName(name: string): string {
  const suffix = SUFFIXES.find((s) => name.endsWith(s));
  return suffix ? name.slice(0, -suffix.length) : name;
}

async function scrape(url: string, waitSeconds: number): Promise<string> {
  const deadline = Date.now() + waitSeconds * 1000;
  for (;;) {
    try {
      const res = await fetch(url, { signal: AbortSignal.timeout(5000) });
      if (!res.ok) throw new Error(`HTTP ${res.status}`);
      return await res.text();
    } catch (error) {
      if (Date.now() >= deadline) throw new Error(`${url}: ${(error as Error).message}`, { cause: error });
      await new Promise((resolve) => setTimeout(resolve, 500));
    }
  }
}

async function main(): Promise<number> {
  const { values, positionals } = parseArgs({
    allowPositionals: true,
    options: {
      "allow-pending": { type: "string", multiple: true, default: [] },
      wait: { type: "string", default: "0" },
      dashboards: { type: "string", default: DEFAULT_DASHBOARDS },
      rules: { type: "string", default: DEFAULT_RULES },
    },
  });
  if (positionals.length === 0) {
    console.error("usage: node scripts/check-metric-names.ts [--allow-pending a,b] [--wait SECONDS] URL...");
    return 2;
  }
  const pending = new Set(
    values["allow-pending"]
      .flatMap((list) => list.split(","))
      .map((name) => name.trim())
      .filter(Boolean),
  );

  const { dashboards, rules, sources, records } = collectExpressions(values.dashboards, values.rules);
  const recorded = new Set(records);
  const used = new Map<string, PromqlSource[]>();
  for (const source of sources) {
    for (const name of metricNames(source.expr)) {
      if (recorded.has(name) || PROMETHEUS_SERIES.has(name)) continue;
      used.set(name, [...(used.get(name) ?? []), source]);
    }
  }

  const exported = new Set<string>();
  try {
    for (const url of positionals) {
      const { names, metrics } = exportedNames(await scrape(url, Number(values.wait)));
      console.log(`scraped ${url}: ${metrics} metrics`);
      for (const name of names) exported.add(name);
    }
  } catch (error) {
    console.error(`check-metric-names: cannot scrape ${(error as Error).message}`);
    return 2;
  }

  const missing: string[] = [];
  const waiting: string[] = [];
  for (const name of [...used.keys()].sort()) {
    if (exported.has(name)) continue;
    if (pending.has(name) || pending.has(baseName(name))) waiting.push(name);
    else missing.push(name);
  }
  const ok = used.size - missing.length - waiting.length;
  console.log(
    `${used.size} metric names used by ${dashboards.length} dashboards and ${rules.length} rule files ` +
      `(recording rules and Prometheus's own series left out): ${ok} exported`,
  );
  for (const name of waiting) console.log(`pending  ${name} (allowed by --allow-pending: not exported yet)`);
  for (const name of [...pending].sort()) {
    const covers = [...used.keys()].filter((n) => n === name || baseName(n) === name);
    if (covers.length > 0 && covers.every((n) => exported.has(n))) {
      console.log(`note     ${name} is exported now: drop it from --allow-pending`);
    } else if (covers.length === 0) {
      console.log(`note     ${name} (--allow-pending) is not used by any dashboard or rule`);
    }
  }
  for (const name of missing) {
    const where = used.get(name)!;
    console.log(
      `MISSING  ${name}: used by ${where[0]!.origin}${where.length > 1 ? ` and ${where.length - 1} more` : ""}`,
    );
  }
  if (missing.length > 0) {
    console.log(`${missing.length} used metric name(s) not exported by ${positionals.join(", ")}`);
    return 1;
  }
  console.log(
    "ok: every metric name the dashboards and rules use is exported" + (waiting.length ? " or pending" : ""),
  );
  return 0;
}

if (import.meta.main) process.exitCode = await main();
