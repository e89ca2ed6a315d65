import { execFile } from "node:child_process";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { expect } from "chai";

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");

interface AuditReport {
  metadata?: { vulnerabilities?: Record<string, number> };
  vulnerabilities?: Record<string, { severity: string; via: unknown[]; fixAvailable: unknown }>;
  message?: string;
  error?: { summary?: string; detail?: string };
}

/** `npm audit --omit=dev --json` from the repository root: its JSON, or why there is none. */
function runAudit(): Promise<{ report: AuditReport | null; problem: string | null }> {
  // Under `npm run`, npm_execpath is the npm that runs us; otherwise the npm on PATH.
  const npmCli = process.env.npm_execpath;
  const [command, args] =
    npmCli && npmCli.endsWith(".js")
      ? [process.execPath, [npmCli, "audit", "--omit=dev", "--json"]]
      : ["npm", ["audit", "--omit=dev", "--json"]];
  return new Promise((resolve) => {
    execFile(
      command,
      args,
      { cwd: ROOT, timeout: 90_000, maxBuffer: 64 * 1024 * 1024, env: { ...process.env, NO_COLOR: "1" } },
      (error, stdout, stderr) => {
        // npm audit exits 1 when it finds anything: the JSON is what counts.
        let report: AuditReport | null = null;
        try {
          report = JSON.parse(stdout) as AuditReport;
        } catch {
          // no JSON at all
        }
        if (report?.metadata?.vulnerabilities) {
          resolve({ report, problem: null });
          return;
        }
        const reason =
          report?.message ??
          report?.error?.summary ??
          stderr.split("\n").find((line) => line.includes("error")) ??
          (error ? String(error.message) : "no report");
        resolve({ report: null, problem: reason.trim() });
      },
    );
  });
}

describe("Security: production dependencies (npm audit --omit=dev)", function () {
  this.timeout(120_000);

  it("have no high or critical advisory", async function () {
    const { report, problem } = await runAudit();
    if (!report) {
      console.log(`      npm audit could not run here, skipped: ${problem}`);
      this.skip();
    }
    const counts = report.metadata!.vulnerabilities!;
    const serious = Object.entries(report.vulnerabilities ?? {})
      .filter(([, item]) => item.severity === "high" || item.severity === "critical")
      .map(([name, item]) => `${name} (${item.severity})`);
    console.log(`      npm audit: ${JSON.stringify(counts)}`);
    expect(serious, "packages with high or critical advisories").to.deep.equal([]);
    expect((counts.high ?? 0) + (counts.critical ?? 0)).to.equal(0);
  });
});
