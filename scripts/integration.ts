/**
 * `npm run test:integration`: the same service and e2e suites as `npm test`, on the distributed stack:
 * NATS JetStream (TEST_NATS_URL, default the local server) and FerretDB (built and started here),
 * with one process per service for the e2e suites.
 */
import { spawn, spawnSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { reachable } from "./ports.ts";

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const natsUrl = process.env.TEST_NATS_URL ?? "nats://127.0.0.1:4222";

if (!(await reachable(natsUrl))) {
  console.error(
    `NATS is not reachable at ${natsUrl}: start nats-server with JetStream (-js) or set TEST_NATS_URL`,
  );
  process.exit(1);
}

const ferretDir = mkdtempSync(path.join(os.tmpdir(), "goal-tracker-ferretdb-"));
const started = spawnSync("bash", [path.join(ROOT, "scripts/ferretdb/start.sh"), ferretDir], {
  encoding: "utf8",
  stdio: ["ignore", "pipe", "inherit"],
});
if (started.status !== 0) {
  console.error("FerretDB did not start");
  process.exit(1);
}
const mongoUrl = started.stdout.trim();
console.log(`integration: NATS ${natsUrl}, FerretDB ${mongoUrl}`);

const mocha = spawn(
  process.execPath,
  [
    path.join(ROOT, "node_modules/mocha/bin/mocha.js"),
    "--config",
    ".mocharc.integration.json",
    ...process.argv.slice(2),
  ],
  {
    cwd: ROOT,
    stdio: "inherit",
    env: { ...process.env, STACK: "distributed", TEST_MONGO_URL: mongoUrl, TEST_NATS_URL: natsUrl },
  },
);
const code: number = await new Promise((resolve) => mocha.once("exit", (status) => resolve(status ?? 1)));

spawnSync("bash", [path.join(ROOT, "scripts/ferretdb/stop.sh"), ferretDir], { stdio: "inherit" });
rmSync(ferretDir, { recursive: true, force: true });
process.exit(code);
