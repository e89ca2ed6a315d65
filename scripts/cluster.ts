/**
 * The distributed topology on this machine, without containers: one process per service on NATS
 * (transporter and JetStream channels), with MongoDB when MONGO_URL is set or each service's own
 * NeDB files otherwise.
 *
 *   npm run cluster                       # gateway on PORT (3000), ops ports from METRICS_PORT (9100) up
 *   MONGO_URL=mongodb://127.0.0.1:27017/goals npm run cluster
 */
import path from "node:path";
import { loadSigningKeys } from "../shared/auth/keys.ts";
import { ALL_SERVICES } from "../shared/config.ts";
import { Cluster } from "./cluster-lib.ts";

const nats = process.env.TRANSPORTER ?? "nats://127.0.0.1:4222";
const dataDir = path.resolve(process.env.DATA_DIR ?? "./data/cluster");
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

const cluster = new Cluster({
  env,
  gatewayPort: Number(process.env.PORT ?? 3000),
  metricsBasePort: Number(process.env.METRICS_PORT ?? 9100),
  dataDir,
  logDir: process.env.CLUSTER_LOG_DIR,
});

let stopping = false;
async function shutdown(): Promise<void> {
  if (stopping) return;
  stopping = true;
  await cluster.stop();
  process.exit(0);
}
process.on("SIGINT", () => void shutdown());
process.on("SIGTERM", () => void shutdown());

try {
  await cluster.start();
} catch (error) {
  console.error(`cluster failed to start: ${String(error)}`);
  await cluster.stop();
  process.exit(1);
}
const ports = [...cluster.processes.values()].map((p) => `${p.service}:${p.metricsPort}`).join(" ");
console.log(`cluster ready: ${cluster.gatewayUrl} (${ALL_SERVICES.length} processes; ops ports ${ports})`);
