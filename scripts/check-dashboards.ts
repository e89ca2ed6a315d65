/**
 * Checks the PromQL of the Grafana dashboards and the Prometheus rules with promtool, offline.
 *
 *   node scripts/check-dashboards.ts [--dashboards DIR] [--rules DIR] [--tests DIR] [--runbook FILE]
 *
 * It extracts every expression: panel targets, template-variable queries (the PromQL inside
 * label_values(...) / query_result(...)) and annotation queries of grafana/dashboards/*.json, and the
 * `expr` of every rule in grafana/prometheus/rules/*.yml. Grafana variables are substituted ($__rate_interval
 * → 5m, $namespace → .*, ...), then each expression becomes a recording rule of one temporary rules file
 * that `promtool check rules` parses. It also checks the dashboards' conventions: every panel has a title
 * and a description, queries use the `prometheus` datasource, `namespace` and `service` variables exist;
 * and the alerts': severity page|ticket, summary, description, runbook_url to a section of docs/runbook.md,
 * a promtool unit test (grafana/prometheus/tests) where each fires and one where it stays silent.
 * Prints each failure with where it comes from; exits 1 if there is any, 2 if it cannot run.
 *
 * The extraction functions are exported for scripts/check-metric-names.ts.
 */
import { spawnSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { parseArgs } from "node:util";
import { parse as parseYaml, stringify as stringifyYaml } from "yaml";

export const ROOT = path.resolve(import.meta.dirname, "..");
export const DEFAULT_DASHBOARDS = path.join(ROOT, "grafana/dashboards");
export const DEFAULT_RULES = path.join(ROOT, "grafana/prometheus/rules");
export const DEFAULT_RULE_TESTS = path.join(ROOT, "grafana/prometheus/tests");
export const DEFAULT_RUNBOOK = path.join(ROOT, "docs/runbook.md");
export const SEVERITIES = ["page", "ticket"];
export const DATASOURCE_UID = "prometheus";

/** One PromQL expression and where it was found (file: place), for messages. */
export interface PromqlSource {
  origin: string;
  expr: string;
}

interface Target {
  expr?: unknown;
  refId?: unknown;
  datasource?: unknown;
  hide?: unknown;
}

interface Panel {
  type?: unknown;
  title?: unknown;
  description?: unknown;
  datasource?: unknown;
  targets?: Target[];
  panels?: Panel[];
}

interface Variable {
  name?: unknown;
  type?: unknown;
  query?: unknown;
  definition?: unknown;
  current?: { value?: unknown };
  options?: { value?: unknown }[];
}

interface Dashboard {
  uid?: unknown;
  title?: unknown;
  panels?: Panel[];
  templating?: { list?: Variable[] };
  annotations?: { list?: { name?: unknown; expr?: unknown; datasource?: unknown; builtIn?: unknown }[] };
}

interface RuleFile {
  groups?: {
    name?: unknown;
    rules?: {
      record?: unknown;
      alert?: unknown;
      expr?: unknown;
      labels?: Record<string, unknown>;
      annotations?: Record<string, unknown>;
    }[];
  }[];
}

interface RuleTestFile {
  tests?: { alert_rule_test?: { alertname?: unknown; exp_alerts?: unknown[] }[] }[];
}

/** Grafana's built-in variables, with the values a check substitutes. */
const BUILTIN_VALUES: Record<string, string> = {
  __rate_interval: "5m",
  __interval: "1m",
  __interval_ms: "60000",
  __range: "6h",
  __range_s: "21600",
  __range_ms: "21600000",
  __from: "1700000000000",
  __to: "1700021600000",
};

function relative(file: string): string {
  const inRepo = path.relative(ROOT, path.resolve(file));
  return inRepo === "" || inRepo.startsWith("..") ? file : inRepo;
}

function filesIn(dirOrFile: string, extensions: string[]): string[] {
  if (!fs.statSync(dirOrFile).isDirectory()) return [dirOrFile];
  return fs
    .readdirSync(dirOrFile)
    .filter((name) => extensions.some((ext) => name.endsWith(ext)))
    .sort()
    .map((name) => path.join(dirOrFile, name));
}

export function dashboardFiles(dir = DEFAULT_DASHBOARDS): string[] {
  return filesIn(dir, [".json"]);
}

export function ruleFiles(dir = DEFAULT_RULES): string[] {
  return filesIn(dir, [".yml", ".yaml"]);
}

export function readDashboard(file: string): Dashboard {
  return JSON.parse(fs.readFileSync(file, "utf8")) as Dashboard;
}

/** Every panel, rows' nested panels included. */
export function allPanels(dashboard: Dashboard): Panel[] {
  const out: Panel[] = [];
  const walk = (panels: Panel[] | undefined) => {
    for (const panel of panels ?? []) {
      out.push(panel);
      walk(panel.panels);
    }
  };
  walk(dashboard.panels);
  return out;
}

function variableQuery(variable: Variable): string | null {
  const query = variable.query;
  if (typeof query === "string") return query;
  if (query && typeof query === "object" && typeof (query as { query?: unknown }).query === "string") {
    return (query as { query: string }).query;
  }
  return typeof variable.definition === "string" ? variable.definition : null;
}

/**
 * The PromQL inside a query variable: label_values(<expr>, label) and query_result(<expr>) hold one;
 * label_values(label), label_names() and metrics(regex) hold none (null).
 */
export function promqlOfVariableQuery(query: string): string | null {
  const trimmed = query.trim();
  const call = /^(label_values|query_result)\s*\(([\s\S]*)\)$/.exec(trimmed);
  if (!call) return /^(label_names|metrics)\s*\(/.test(trimmed) ? null : trimmed;
  const [, fn, inner] = call as unknown as [string, string, string];
  if (fn === "query_result") return inner.trim();
  // label_values(expr, label): the label is the last top-level argument.
  let depth = 0;
  let quote: string | null = null;
  let lastComma = -1;
  for (let i = 0; i < inner.length; i++) {
    const c = inner[i]!;
    if (quote) {
      if (c === "\\") i++;
      else if (c === quote) quote = null;
    } else if (c === '"' || c === "'" || c === "`") quote = c;
    else if ("({[".includes(c)) depth++;
    else if (")}]".includes(c)) depth--;
    else if (c === "," && depth === 0) lastComma = i;
  }
  return lastComma < 0 ? null : inner.slice(0, lastComma).trim();
}

/** Panel targets, variable queries and annotation queries of one dashboard. */
export function dashboardExpressions(file: string): PromqlSource[] {
  const dashboard = readDashboard(file);
  const where = relative(file);
  const out: PromqlSource[] = [];
  for (const panel of allPanels(dashboard)) {
    for (const target of panel.targets ?? []) {
      if (typeof target.expr !== "string" || target.expr.trim() === "") continue;
      out.push({
        origin: `${where}: panel "${String(panel.title)}" target ${String(target.refId ?? "?")}`,
        expr: target.expr,
      });
    }
  }
  for (const variable of dashboard.templating?.list ?? []) {
    if (variable.type !== "query") continue;
    const query = variableQuery(variable);
    const expr = query === null ? null : promqlOfVariableQuery(query);
    if (expr) out.push({ origin: `${where}: variable $${String(variable.name)}`, expr });
  }
  for (const annotation of dashboard.annotations?.list ?? []) {
    if (typeof annotation.expr === "string" && annotation.expr.trim() !== "") {
      out.push({ origin: `${where}: annotation "${String(annotation.name)}"`, expr: annotation.expr });
    }
  }
  return out;
}

/** The expression of every rule, and the names the recording rules define. */
export function ruleExpressions(file: string): { sources: PromqlSource[]; records: string[] } {
  const doc = (parseYaml(fs.readFileSync(file, "utf8")) ?? {}) as RuleFile;
  const where = relative(file);
  const sources: PromqlSource[] = [];
  const records: string[] = [];
  for (const group of doc.groups ?? []) {
    for (const rule of group.rules ?? []) {
      const name = typeof rule.record === "string" ? rule.record : String(rule.alert);
      if (typeof rule.record === "string") records.push(rule.record);
      if (typeof rule.expr === "string" || typeof rule.expr === "number") {
        sources.push({
          origin: `${where}: group "${String(group.name)}" rule ${name}`,
          expr: String(rule.expr),
        });
      }
    }
  }
  return { sources, records };
}

/** Values for a dashboard's own variables: regex matchers get ".*", custom ones their first option. */
export function variableValues(dashboards: Dashboard[]): Record<string, string> {
  const values: Record<string, string> = { ...BUILTIN_VALUES };
  for (const dashboard of dashboards) {
    for (const variable of dashboard.templating?.list ?? []) {
      if (typeof variable.name !== "string") continue;
      let value = ".*";
      if (variable.type === "interval" || variable.type === "custom") {
        const first = variable.options?.[0]?.value ?? variableQuery(variable)?.split(",")[0];
        if (typeof first === "string" && first.trim() !== "") value = first.trim();
      } else if (variable.type === "constant" || variable.type === "textbox") {
        value = variableQuery(variable) ?? "x";
      }
      values[variable.name] ??= value;
    }
  }
  return values;
}

/** Replaces $name, ${name}, ${name:format} and [[name]]; names it does not know are returned. */
export function substitute(
  expr: string,
  values: Record<string, string>,
): { expr: string; unknown: string[] } {
  const unknown: string[] = [];
  const out = expr.replace(
    /\$\{([A-Za-z_]\w*)(?::[^}]*)?\}|\[\[([A-Za-z_]\w*)(?::[^\]]*)?\]\]|\$([A-Za-z_]\w*)/g,
    (match, a: string | undefined, b: string | undefined, c: string | undefined) => {
      const name = (a ?? b ?? c)!;
      const value = values[name];
      if (value === undefined) {
        unknown.push(name);
        return match;
      }
      return value;
    },
  );
  return { expr: out, unknown };
}

/** Conventions of the dashboards: titles, descriptions, datasource, variables. */
export function lintDashboard(file: string): string[] {
  const dashboard = readDashboard(file);
  const where = relative(file);
  const problems: string[] = [];
  if (typeof dashboard.uid !== "string" || dashboard.uid === "") problems.push(`${where}: no uid`);
  if (typeof dashboard.title !== "string" || dashboard.title === "") problems.push(`${where}: no title`);
  const variables = new Set((dashboard.templating?.list ?? []).map((variable) => variable.name));
  for (const name of ["namespace", "service"]) {
    if (!variables.has(name)) problems.push(`${where}: no $${name} variable`);
  }
  const isPrometheus = (ds: unknown) =>
    ds === undefined ||
    (typeof ds === "object" && ds !== null && (ds as { uid?: unknown }).uid === DATASOURCE_UID);
  allPanels(dashboard).forEach((panel, index) => {
    const name =
      typeof panel.title === "string" && panel.title.trim() !== "" ? `"${panel.title}"` : `#${index + 1}`;
    if (typeof panel.title !== "string" || panel.title.trim() === "")
      problems.push(`${where}: panel ${name} has no title`);
    if (typeof panel.description !== "string" || panel.description.trim() === "") {
      problems.push(`${where}: panel ${name} has no description`);
    }
    if (panel.type === "row") return;
    if (!isPrometheus(panel.datasource))
      problems.push(`${where}: panel ${name}: datasource is not uid "${DATASOURCE_UID}"`);
    if ((panel.targets ?? []).length === 0) problems.push(`${where}: panel ${name} has no query`);
    for (const target of panel.targets ?? []) {
      if (!isPrometheus(target.datasource)) {
        problems.push(
          `${where}: panel ${name} target ${String(target.refId)}: datasource is not uid "${DATASOURCE_UID}"`,
        );
      }
    }
  });
  return problems;
}

/**
 * Conventions of the alerts: severity page or ticket; summary, description and runbook_url
 * (docs/runbook.md#<alert in lower case>, a `## <Alert>` section of the runbook); a unit test in which it
 * fires and one in which it stays silent.
 */
export function lintAlerts(rules: string[], runbook: string, testsDir: string): string[] {
  const problems: string[] = [];
  const headings = new Set(
    fs.existsSync(runbook)
      ? [...fs.readFileSync(runbook, "utf8").matchAll(/^## (.+?)\s*$/gm)].map((match) => match[1]!)
      : [],
  );
  const fires = new Set<string>();
  const silent = new Set<string>();
  for (const file of fs.existsSync(testsDir) ? filesIn(testsDir, [".yml", ".yaml"]) : []) {
    const doc = (parseYaml(fs.readFileSync(file, "utf8")) ?? {}) as RuleTestFile;
    for (const test of doc.tests ?? []) {
      for (const check of test.alert_rule_test ?? []) {
        if (typeof check.alertname !== "string") continue;
        ((check.exp_alerts ?? []).length > 0 ? fires : silent).add(check.alertname);
      }
    }
  }
  for (const file of rules) {
    const doc = (parseYaml(fs.readFileSync(file, "utf8")) ?? {}) as RuleFile;
    for (const rule of (doc.groups ?? []).flatMap((group) => group.rules ?? [])) {
      if (typeof rule.alert !== "string") continue;
      const where = `${relative(file)}: alert ${rule.alert}`;
      const severity = rule.labels?.severity;
      if (typeof severity !== "string" || !SEVERITIES.includes(severity)) {
        problems.push(`${where}: label severity must be one of ${SEVERITIES.join(", ")}`);
      }
      for (const name of ["summary", "description", "runbook_url"]) {
        const value = rule.annotations?.[name];
        if (typeof value !== "string" || value.trim() === "")
          problems.push(`${where}: no ${name} annotation`);
      }
      const url = `docs/runbook.md#${rule.alert.toLowerCase()}`;
      if (rule.annotations?.runbook_url !== undefined && rule.annotations.runbook_url !== url) {
        problems.push(`${where}: runbook_url must be ${url}`);
      }
      if (!headings.has(rule.alert))
        problems.push(`${where}: no "## ${rule.alert}" section in ${relative(runbook)}`);
      if (!fires.has(rule.alert))
        problems.push(`${where}: no unit test in ${relative(testsDir)} where it fires`);
      if (!silent.has(rule.alert))
        problems.push(`${where}: no unit test in ${relative(testsDir)} where it stays silent`);
    }
  }
  return problems;
}

/** Parses each expression with `promtool check rules`; returns one message per failure. */
export function checkWithPromtool(sources: PromqlSource[]): string[] {
  const unique = new Map<string, string[]>();
  for (const source of sources) unique.set(source.expr, [...(unique.get(source.expr) ?? []), source.origin]);
  const exprs = [...unique.keys()];
  const record = (i: number) => `promql_check:expr_${i}`;
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "check-promql-"));
  const file = path.join(dir, "expressions.yml");
  try {
    const rules = exprs.map((expr, i) => ({ record: record(i), expr }));
    fs.writeFileSync(file, stringifyYaml({ groups: [{ name: "expressions", rules }] }, { lineWidth: 0 }));
    const run = spawnSync("promtool", ["check", "rules", file], { encoding: "utf8" });
    if (run.error) throw new Error(`cannot run promtool: ${run.error.message}`);
    if (run.status === 0) return [];
    const output = `${run.stdout}\n${run.stderr}`;
    const failures: string[] = [];
    for (const line of output.split("\n")) {
      const match = /"promql_check:expr_(\d+)": (.*)$/.exec(line);
      if (!match) continue;
      const expr = exprs[Number(match[1])]!;
      failures.push(`${match[2]}\n    expr: ${expr}\n    in:   ${unique.get(expr)!.join("\n          ")}`);
    }
    return failures.length > 0 ? failures : [`promtool check rules failed:\n${output.trim()}`];
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

/** Checks whole rule files too (names, labels, annotation templates), not only their expressions. */
function checkRuleFiles(files: string[]): string[] {
  if (files.length === 0) return [];
  const run = spawnSync("promtool", ["check", "rules", ...files], { encoding: "utf8" });
  if (run.error) throw new Error(`cannot run promtool: ${run.error.message}`);
  return run.status === 0
    ? []
    : [`promtool check rules ${files.map(relative).join(" ")}:\n${run.stdout}${run.stderr}`];
}

/** Every expression of the dashboards (variables substituted) and rules, with extraction problems. */
export function collectExpressions(dashboardsDir: string, rulesDir: string) {
  const dashboards = dashboardFiles(dashboardsDir);
  const rules = ruleFiles(rulesDir);
  const values = variableValues(dashboards.map(readDashboard));
  const problems: string[] = [];
  const sources: PromqlSource[] = [];
  for (const file of dashboards) {
    for (const source of dashboardExpressions(file)) {
      const { expr, unknown } = substitute(source.expr, values);
      if (unknown.length > 0)
        problems.push(`${source.origin}: unknown variable(s) ${unknown.map((n) => `$${n}`).join(", ")}`);
      sources.push({ origin: source.origin, expr });
    }
  }
  const records: string[] = [];
  for (const file of rules) {
    const found = ruleExpressions(file);
    sources.push(...found.sources);
    records.push(...found.records);
  }
  return { dashboards, rules, sources, records, problems };
}

function main(): number {
  const { values } = parseArgs({
    options: {
      dashboards: { type: "string", default: DEFAULT_DASHBOARDS },
      rules: { type: "string", default: DEFAULT_RULES },
      tests: { type: "string", default: DEFAULT_RULE_TESTS },
      runbook: { type: "string", default: DEFAULT_RUNBOOK },
    },
  });
  const { dashboards, rules, sources, problems } = collectExpressions(values.dashboards, values.rules);
  const failures = [
    ...problems,
    ...dashboards.flatMap(lintDashboard),
    ...lintAlerts(rules, values.runbook, values.tests),
  ];
  try {
    failures.push(...checkRuleFiles(rules), ...checkWithPromtool(sources));
  } catch (error) {
    console.error(`check-dashboards: ${(error as Error).message}`);
    return 2;
  }
  const what = `${sources.length} expressions (${new Set(sources.map((s) => s.expr)).size} distinct) from ${dashboards.length} dashboards and ${rules.length} rule files`;
  if (failures.length > 0) {
    for (const failure of failures) console.log(`FAIL  ${failure}`);
    console.log(`${failures.length} problem(s) in ${what}`);
    return 1;
  }
  console.log(`ok    ${what} parse with promtool`);
  console.log("ok    every panel has a title, a description and the prometheus datasource");
  console.log("ok    every alert has a severity, a runbook section, a firing and a silent unit test");
  return 0;
}

if (import.meta.main) process.exitCode = main();
