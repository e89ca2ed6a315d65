/**
 * The distributed topology on this machine, without containers: one process per service on NATS
 * (transporter and JetStream channels), with MongoDB when MONGO_URL is set or each service's own
 * NeDB files otherwise.
 *
 *   npm run cluster                                  # gateway on PORT (3000), ops ports from METRICS_PORT (9100) up
 *   npm run cluster -- --with-ferretdb               # and a FerretDB (built from the Go module proxy) as the database
 *   npm run cluster -- --with-prometheus             # and Prometheus with the project's rules on PROMETHEUS_PORT (9090)
 */
import { spawnSync } from "node:child_process";
import { readdirSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { loadSigningKeys } from "../shared/auth/keys.ts";
import { ALL_SERVICES } from "../shared/config.ts";
import { Cluster } from "./cluster-lib.ts";
import { Prometheus, prometheusConfig } from "./prometheus/server.ts";

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const withFerret = process.argv.includes("--with-ferretdb");
const withPrometheus = process.argv.includes("--with-prometheus");
const nats = process.env.TRANSPORTER ?? "nats://127.0.0.1:4222";
const dataDir = path.resolve(process.env.DATA_DIR ?? "./data/cluster");
const ferretDir = path.join(dataDir, "ferretdb");
const keys = await loadSigningKeys({
  dataDir,
  jwtPrivateKey: process.env.JWT_PRIVATE_KEY ?? null,
  jwtPublicKey: process.env.JWT_PUBLIC_KEY ?? null,
});

const env: Record<string, string> = {
  TRANSPORTER: nats,
  CHANNELS_URL: process.env.CHANNELS_URL ?? nats,
  JWT_PUBLIC_KEY: keys.publicKey,
};
if (keys.privateKey) env.JWT_PRIVATE_KEY = keys.privateKey;
if (process.env.MONGO_URL) env.MONGO_URL = process.env.MONGO_URL;
if (withFerret && !env.MONGO_URL) {
  const started = spawnSync("bash", [path.join(ROOT, "scripts/ferretdb/start.sh"), ferretDir], {
    encoding: "utf8",
  });
  if (started.status !== 0) {
    console.error(`FerretDB did not start: ${started.stderr}`);
    process.exit(1);
  }
  env.MONGO_URL = `${started.stdout.trim()}goals`;
}

const cluster = new Cluster({
  env,
  gatewayPort: Number(process.env.PORT ?? 3000),
  metricsBasePort: Number(process.env.METRICS_PORT ?? 9100),
  dataDir,
  logDir: process.env.CLUSTER_LOG_DIR,
});
let prometheus: Prometheus | null = null;

let stopping = false;
async function shutdown(): Promise<void> {
  if (stopping) return;
  stopping = true;
  await prometheus?.stop();
  await cluster.stop();
  if (withFerret)
    spawnSync("bash", [path.join(ROOT, "scripts/ferretdb/stop.sh"), ferretDir], { stdio: "inherit" });
  process.exit(0);
}
process.on("SIGINT", () => void shutdown());
process.on("SIGTERM", () => void shutdown());

try {
  await cluster.start();
  if (withPrometheus) {
    const rulesDir = path.join(ROOT, "grafana/prometheus/rules");
    prometheus = new Prometheus({
      dir: path.join(dataDir, "prometheus"),
      port: Number(process.env.PROMETHEUS_PORT ?? 9090),
      config: prometheusConfig({
        job: "goal-tracker",
        intervalSeconds: 5,
        ruleFiles: readdirSync(rulesDir)
          .filter((file) => file.endsWith(".yml"))
          .map((file) => path.join(rulesDir, file)),
        targets: [...cluster.processes.values()].map((p) => ({
          address: `127.0.0.1:${p.metricsPort}`,
          labels: { service: p.service, namespace: "local" },
        })),
      }),
    });
    await prometheus.start();
  }
} catch (error) {
  console.error(`cluster failed to start: ${String(error)}`);
  await shutdown();
  process.exit(1);
}
const ports = [...cluster.processes.values()].map((p) => `${p.service}:${p.metricsPort}`).join(" ");
console.log(`cluster ready: ${cluster.gatewayUrl} (${ALL_SERVICES.length} processes; ops ports ${ports})`);
if (env.MONGO_URL) console.log(`database: ${env.MONGO_URL}`);
if (prometheus) console.log(`prometheus: http://127.0.0.1:${process.env.PROMETHEUS_PORT ?? 9090}`);
