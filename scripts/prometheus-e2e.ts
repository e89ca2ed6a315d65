/**
 * End-to-end check of the monitoring: a real cluster on this machine, scraped by a real Prometheus, with
 * the repo's rules loaded, after realistic traffic; then every target must be up and every dashboard
 * query and recording rule must return data.
 *
 *   node scripts/prometheus-e2e.ts [--traffic-seconds 40] [--keep] [--dashboards DIR] [--rules DIR]
 *                                  [--break-target SERVICE] [--check-expr PROMQL]...
 *
 * It starts FerretDB (scripts/ferretdb/start.sh, a temporary directory), a Cluster of one process per
 * service (scripts/cluster-lib.ts) on NATS JetStream (TRANSPORTER, default nats://127.0.0.1:4222) with
 * its own NAMESPACE, database and JWT keys, a local webhook receiver, and /usr/bin/prometheus (PROMETHEUS
 * to override) scraping each process every 2 s with the labels service=<name>, namespace=ci and the
 * rule files of grafana/prometheus/rules. It drives traffic through the gateway (scripts/prometheus/
 * traffic.ts), waits a few scrape intervals, and checks over Prometheus' HTTP API:
 *   - up is 1 for every process, and the rule files loaded and evaluate without error;
 *   - the $namespace and $service variables list the namespace and every service;
 *   - every expression of grafana/dashboards/*.json (variables substituted: $namespace → ci,
 *     $service → .*, $__rate_interval → 1m, $__range → 5m) returns at least one series; runtime
 *     queries (process_*, nodejs_*, up) for each service on its own; except the allow-list of
 *     scripts/prometheus/expectations.ts, expressions that only have data when something fails;
 *   - every recording rule produces a series.
 * One line per check (ok / FAIL), then a summary. Everything it started is stopped, also on failure or
 * Ctrl-C. Exits 1 when a check failed, 2 when it cannot run (no NATS, no prometheus).
 *
 * --dashboards and --rules read other directories than grafana/dashboards and grafana/prometheus/rules
 * (a copy with a change, say). --break-target SERVICE points that service's target at a closed port, and
 * --check-expr adds an expression that must return data: both exist to see the check fail. --keep keeps
 * the temporary directory (process logs, Prometheus' TSDB and config); it is kept anyway on failure.
 */
import { spawnSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { parseArgs } from "node:util";
import { generateKeyPair } from "../shared/auth/keys.ts";
import { ALL_SERVICES } from "../shared/config.ts";
import { removeNamespaceStreams } from "../test/helpers/environment.ts";
import { deadUrl, startWebhookReceiver } from "../test/helpers/webhook-receiver.ts";
import { DEFAULT_DASHBOARDS, DEFAULT_RULES, ROOT, ruleExpressions, ruleFiles } from "./check-dashboards.ts";
import { Cluster } from "./cluster-lib.ts";
import { freePort, freePortRange, reachable } from "./ports.ts";
import {
  ALLOWED_EMPTY_RECORDS,
  dashboardChecks,
  type ExpressionCheck,
  staleAllowListEntries,
} from "./prometheus/expectations.ts";
import { Prometheus, prometheusConfig, type QueryResult } from "./prometheus/server.ts";
import { runTraffic } from "./prometheus/traffic.ts";

const JOB = "goal-tracker";
const PROMETHEUS_NAMESPACE = "ci";
const INTERVAL_SECONDS = 2;
const ADMIN_EMAIL = "admin@example.test";
/** How long an expression without data is queried again before it fails (late scrapes, rule evaluations). */
const SETTLE_MS = 12_000;

const { values: args } = parseArgs({
  options: {
    "traffic-seconds": { type: "string", default: "40" },
    "break-target": { type: "string" },
    "check-expr": { type: "string", multiple: true, default: [] },
    dashboards: { type: "string", default: DEFAULT_DASHBOARDS },
    rules: { type: "string", default: DEFAULT_RULES },
    keep: { type: "boolean", default: false },
  },
});
const trafficSeconds = Number(args["traffic-seconds"]);
const natsUrl = process.env.TRANSPORTER ?? "nats://127.0.0.1:4222";
const prometheusBinary = process.env.PROMETHEUS ?? "/usr/bin/prometheus";
const breakTarget = args["break-target"];

const startedAt = performance.now();
const elapsed = () => `${((performance.now() - startedAt) / 1000).toFixed(1)}s`;
let passed = 0;
let failed = 0;
let allowedEmpty = 0;
const ok = (message: string) => {
  passed += 1;
  console.log(`ok    ${message}`);
};
const fail = (message: string) => {
  failed += 1;
  console.log(`FAIL  ${message}`);
};
const step = (message: string) => console.log(`==>   ${message} (${elapsed()})`);
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** What was started, stopped in reverse order by cleanup(), whatever happened. */
const cleanups: { name: string; run: () => Promise<unknown> }[] = [];
let cleaning: Promise<void> | null = null;
function cleanup(): Promise<void> {
  cleaning ??= (async () => {
    for (const { name, run } of cleanups.splice(0).reverse()) {
      try {
        await run();
      } catch (error) {
        console.log(`warn  stopping ${name}: ${(error as Error).message}`);
      }
    }
  })();
  return cleaning;
}
for (const signal of ["SIGINT", "SIGTERM"] as const) {
  process.once(signal, () => {
    console.log(`\n${signal}: stopping everything`);
    void cleanup().finally(() => process.exit(signal === "SIGINT" ? 130 : 143));
  });
}

function shortExpr(expr: string): string {
  const flat = expr.replace(/\s+/g, " ").trim();
  return flat.length > 160 ? `${flat.slice(0, 157)}...` : flat;
}

const series = (n: number) => `${n} series`;

/** Queries `expr` until it has data or the settle time is over (a scrape or evaluation may be late). */
async function settledQuery(
  prometheus: Prometheus,
  expr: string,
  deadline: number,
  hasData: (result: QueryResult) => boolean = (result) => result.series.length > 0,
): Promise<QueryResult> {
  for (;;) {
    const result = await prometheus.query(expr);
    if (result.error || hasData(result) || Date.now() >= deadline) return result;
    await sleep(1000);
  }
}

async function checkTargets(prometheus: Prometheus, addresses: Map<string, string>): Promise<void> {
  const up = await prometheus.query(`up{job="${JOB}"}`);
  const targets = await prometheus.targets();
  const values = new Map(up.series.map((s) => [s.metric.service ?? "?", s.value[1]]));
  for (const service of ALL_SERVICES) {
    const address = addresses.get(service)!;
    const value = values.get(service);
    if (value === "1") {
      ok(`target ${service} (${address}) up = 1`);
    } else {
      const target = targets.find((t) => t.labels.service === service);
      fail(
        `target ${service} (${address}) up = ${value ?? "absent"}${target?.lastError ? `: ${target.lastError}` : ""}`,
      );
    }
  }
  const count = up.series.length;
  if (count === ALL_SERVICES.length) ok(`${count} targets in job ${JOB}, one per process`);
  else fail(`${count} targets in job ${JOB}, expected ${ALL_SERVICES.length} (one per process)`);
}

async function checkRules(prometheus: Prometheus, files: string[]): Promise<void> {
  const expected = files.reduce((n, file) => n + ruleExpressions(file).sources.length, 0);
  const rules = await prometheus.rules();
  const broken = rules.filter((rule) => rule.health !== "ok");
  if (rules.length !== expected) {
    fail(`${rules.length} rules loaded, the ${files.length} rule files have ${expected}`);
  } else if (broken.length > 0) {
    for (const rule of broken) fail(`rule ${rule.name}: health ${rule.health}: ${rule.lastError ?? ""}`);
  } else {
    ok(`${rules.length} rules of ${files.length} rule files loaded, every one evaluates without error`);
  }
  const firing = rules.filter((rule) => rule.type === "alerting" && rule.state === "firing");
  console.log(
    `info  alerts firing: ${firing.length === 0 ? "none" : firing.map((rule) => rule.name).join(", ")}`,
  );
}

async function checkVariables(prometheus: Prometheus, deadline: number): Promise<void> {
  const result = await settledQuery(
    prometheus,
    `process_start_time_seconds{namespace=~"${PROMETHEUS_NAMESPACE}"}`,
    deadline,
  );
  const namespaces = new Set(result.series.map((s) => s.metric.namespace));
  const services = new Set(result.series.map((s) => s.metric.service));
  if (namespaces.has(PROMETHEUS_NAMESPACE)) ok(`variable $namespace lists "${PROMETHEUS_NAMESPACE}"`);
  else fail(`variable $namespace does not list "${PROMETHEUS_NAMESPACE}"`);
  const missing = ALL_SERVICES.filter((service) => !services.has(service));
  if (missing.length === 0) ok(`variable $service lists all ${ALL_SERVICES.length} services`);
  else fail(`variable $service lacks ${missing.join(", ")}`);
}

async function checkExpression(prometheus: Prometheus, check: ExpressionCheck, deadline: number) {
  const result = await settledQuery(prometheus, check.expr, check.allowedEmpty ? 0 : deadline);
  if (result.error) {
    fail(`${check.origin}: query error ${result.error}\n      expr: ${shortExpr(check.expr)}`);
    return;
  }
  const found = result.series.length;
  if (found === 0) {
    if (check.allowedEmpty) {
      allowedEmpty += 1;
      ok(`${check.origin}: empty, as allowed: ${check.allowedEmpty.reason}`);
    } else {
      fail(`${check.origin}: no data\n      expr: ${shortExpr(check.expr)}`);
    }
    return;
  }
  if (!check.perService) {
    ok(`${check.origin}: ${series(found)}${check.allowedEmpty ? " (allow-listed as possibly empty)" : ""}`);
    return;
  }
  const missing: string[] = [];
  for (const service of ALL_SERVICES) {
    const own = await settledQuery(prometheus, check.perService(service), deadline);
    if (own.error || own.series.length === 0) missing.push(service);
  }
  if (missing.length === 0)
    ok(`${check.origin}: ${series(found)}, data for each of the ${ALL_SERVICES.length} services`);
  else fail(`${check.origin}: no data for ${missing.join(", ")}\n      expr: ${shortExpr(check.expr)}`);
}

async function checkRecords(prometheus: Prometheus, files: string[], deadline: number): Promise<void> {
  const records = [...new Set(files.flatMap((file) => ruleExpressions(file).records))];
  for (const record of records) {
    const result = await settledQuery(prometheus, record, deadline);
    const reason = ALLOWED_EMPTY_RECORDS[record];
    if (result.error) fail(`record ${record}: query error ${result.error}`);
    else if (result.series.length > 0) ok(`record ${record}: ${series(result.series.length)}`);
    else if (reason !== undefined) {
      allowedEmpty += 1;
      ok(`record ${record}: empty, as allowed: ${reason}`);
    } else fail(`record ${record}: no series`);
  }
  for (const record of Object.keys(ALLOWED_EMPTY_RECORDS).filter((name) => !records.includes(name))) {
    fail(`allow-list: record ${record} is in no rule file any more`);
  }
}

async function main(): Promise<number> {
  if (!(await reachable(natsUrl))) {
    console.log(`FAIL  NATS is not reachable at ${natsUrl} (start nats-server -js, or set TRANSPORTER)`);
    return 2;
  }
  if (!existsSync(prometheusBinary)) {
    console.log(
      `FAIL  no Prometheus server at ${prometheusBinary} (apt-get install prometheus, or set PROMETHEUS)`,
    );
    return 2;
  }
  if (breakTarget !== undefined && !(ALL_SERVICES as readonly string[]).includes(breakTarget)) {
    console.log(`FAIL  --break-target ${breakTarget}: not a service (${ALL_SERVICES.join(", ")})`);
    return 2;
  }
  const checks = dashboardChecks(PROMETHEUS_NAMESPACE, args.dashboards);
  for (const [i, expr] of (args["check-expr"] ?? []).entries()) {
    checks.push({ origin: `--check-expr #${i + 1}`, expr, perService: null, allowedEmpty: null });
  }
  const rules = ruleFiles(args.rules);

  const work = mkdtempSync(path.join(os.tmpdir(), "prometheus-e2e-"));
  let keepWork = args.keep;
  cleanups.push({
    name: "work directory",
    run: async () => {
      if (keepWork || failed > 0) console.log(`info  logs and data kept in ${work}`);
      else rmSync(work, { recursive: true, force: true });
    },
  });
  const suffix = randomBytes(4).toString("hex");
  const namespace = `prom-e2e-${suffix}`;

  step("FerretDB");
  const ferretDir = path.join(work, "ferretdb");
  cleanups.push({
    name: "FerretDB",
    run: async () =>
      spawnSync("bash", [path.join(ROOT, "scripts/ferretdb/stop.sh"), ferretDir], { stdio: "ignore" }),
  });
  const ferret = spawnSync("bash", [path.join(ROOT, "scripts/ferretdb/start.sh"), ferretDir], {
    encoding: "utf8",
    stdio: ["ignore", "pipe", "inherit"],
  });
  if (ferret.status !== 0) throw new Error("FerretDB did not start");
  const mongoUrl = ferret.stdout.trim();

  const receiver = await startWebhookReceiver((n) => (n === 1 ? 500 : 200));
  cleanups.push({ name: "webhook receiver", run: () => receiver.close() });

  const gatewayPort = await freePort();
  const metricsBasePort = await freePortRange(ALL_SERVICES.length);
  const addresses = new Map<string, string>();
  for (const [index, service] of ALL_SERVICES.entries()) {
    const port = service === breakTarget ? await freePort() : metricsBasePort + index;
    addresses.set(service, `127.0.0.1:${port}`);
  }
  const prometheus = new Prometheus({
    binary: prometheusBinary,
    dir: path.join(work, "prometheus"),
    port: await freePort(),
    config: prometheusConfig({
      job: JOB,
      intervalSeconds: INTERVAL_SECONDS,
      ruleFiles: rules.map((file) => path.resolve(file)),
      targets: ALL_SERVICES.map((service) => ({
        address: addresses.get(service)!,
        labels: { service, namespace: PROMETHEUS_NAMESPACE },
      })),
    }),
  });
  const keys = generateKeyPair();
  const cluster = new Cluster({
    env: {
      NODE_ENV: "production",
      LOG_LEVEL: "warn",
      TRANSPORTER: natsUrl,
      CHANNELS_URL: natsUrl,
      MONGO_URL: `${mongoUrl.endsWith("/") ? mongoUrl : `${mongoUrl}/`}prom_e2e_${suffix}`,
      NAMESPACE: namespace,
      JWT_PRIVATE_KEY: keys.privateKey,
      JWT_PUBLIC_KEY: keys.publicKey,
      RATE_LIMIT_PER_MINUTE: "0",
      ADMIN_EMAILS: ADMIN_EMAIL,
      WEBHOOK_ALLOW_PRIVATE: "true",
      WEBHOOK_RETRY_BASE_MS: "50",
    },
    gatewayPort,
    metricsBasePort,
    dataDir: path.join(work, "data"),
    logDir: path.join(work, "logs"),
    readyTimeoutMs: 60_000,
  });
  cleanups.push({ name: "NATS streams", run: () => removeNamespaceStreams(namespace) });
  cleanups.push({ name: "cluster", run: () => cluster.stop() });
  cleanups.push({ name: "Prometheus", run: () => prometheus.stop() });

  step(
    `Prometheus ${prometheus.url} and a cluster of ${ALL_SERVICES.length} processes (namespace ${namespace})`,
  );
  const [promStarted, clusterStarted] = await Promise.allSettled([prometheus.start(), cluster.start()]);
  if (promStarted.status === "rejected") throw promStarted.reason;
  if (clusterStarted.status === "rejected") {
    keepWork = true;
    throw new Error(
      `cluster did not start: ${String(clusterStarted.reason)} (logs in ${path.join(work, "logs")})`,
    );
  }
  const ports = [...addresses].map(([service, address]) => `${service}=${address.split(":")[1]}`).join(" ");
  console.log(`info  gateway ${cluster.gatewayUrl}; metrics ports ${ports}`);

  step(`traffic through the gateway for ${trafficSeconds} s`);
  try {
    const traffic = await runTraffic({
      baseUrl: cluster.gatewayUrl,
      seconds: trafficSeconds,
      adminEmail: ADMIN_EMAIL,
      receiver,
      deadUrl: await deadUrl(),
    });
    const statuses = Object.entries(traffic.byStatus)
      .map(([status, n]) => `${status}: ${n}`)
      .join(", ");
    if (traffic.unexpectedCount === 0)
      ok(`traffic: ${traffic.requests} requests, each answered as expected (${statuses})`);
    else {
      fail(
        `traffic: ${traffic.unexpectedCount} of ${traffic.requests} requests answered unexpectedly (${statuses})`,
      );
      for (const line of traffic.unexpected) console.log(`      ${line}`);
    }
    for (const check of traffic.checks) (check.ok ? ok : fail)(`traffic: ${check.name}: ${check.detail}`);
  } catch (error) {
    fail(`traffic stopped: ${(error as Error).message}`);
  }

  step(`waiting ${3 * INTERVAL_SECONDS + 1} s for the last scrapes and rule evaluations`);
  await sleep((3 * INTERVAL_SECONDS + 1) * 1000);
  const deadline = Date.now() + SETTLE_MS;

  step("targets and rules");
  await checkTargets(prometheus, addresses);
  await checkRules(prometheus, rules);

  step(`dashboard queries (${checks.length})`);
  await checkVariables(prometheus, deadline);
  for (const check of checks) await checkExpression(prometheus, check, deadline);
  for (const entry of staleAllowListEntries(checks, args.dashboards)) {
    fail(`allow-list: ${entry.dashboard}: ${entry.what} matches no dashboard expression any more`);
  }

  step("recording rules");
  await checkRecords(prometheus, rules, deadline);
  return failed > 0 ? 1 : 0;
}

let code: number;
try {
  code = await main();
} catch (error) {
  fail((error as Error).message);
  code = 1;
}
step("stopping Prometheus, the cluster, FerretDB and the receiver");
await cleanup();
console.log(
  `\nprometheus-e2e: ${passed} ok, ${failed} failed (${allowedEmpty} allowed empty) in ${elapsed()}`,
);
process.exit(code);
