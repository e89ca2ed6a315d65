/**
 * Runs the environment of every rendered Deployment through the app's own config loader
 * (shared/config.ts `loadConfig`), so a value the process would refuse at start fails here, whatever the
 * Go validator's copy of the patterns says. Input: the JSON that `k8s-validate -env-json` writes.
 *
 *   node scripts/k8s/check-config.ts <env.json> [label]
 *
 * Values from Secrets outside the manifests arrive as null and are replaced by well-formed placeholders
 * (their real values are checked where they are made). Prints one line; exits 1 on any problem.
 */
import { readFileSync } from "node:fs";
import { ConfigError, loadConfig } from "../../shared/config.ts";

interface Dump {
  deployments: { name: string; component: string; env: Record<string, string | null> }[];
}

const PLACEHOLDERS: Record<string, string> = {
  JWT_PRIVATE_KEY: "-----BEGIN PRIVATE KEY-----\nplaceholder\n-----END PRIVATE KEY-----\n",
  JWT_PUBLIC_KEY: "-----BEGIN PUBLIC KEY-----\nplaceholder\n-----END PUBLIC KEY-----\n",
  MONGO_URL: "mongodb://user:password@mongo-0.example:27017/goals?replicaSet=rs0",
  SMTP_URL: "smtp://user:password@mail.example:587",
};

const [file, label = "manifests"] = process.argv.slice(2);
if (!file) {
  console.error("usage: node scripts/k8s/check-config.ts <env.json> [label]");
  process.exit(2);
}

const dump = JSON.parse(readFileSync(file, "utf8")) as Dump;
const problems: string[] = [];
for (const { name, component, env } of dump.deployments) {
  const source: Record<string, string> = {};
  for (const [key, value] of Object.entries(env)) {
    const resolved = value ?? PLACEHOLDERS[key];
    if (resolved !== undefined) source[key] = resolved;
  }
  try {
    const config = loadConfig(source);
    if (config.services.join(",") !== component) {
      problems.push(`${name}: runs services ${config.services.join(",")}, want ${component}`);
    }
    if (config.nodeEnv !== "production") problems.push(`${name}: NODE_ENV is ${config.nodeEnv}`);
    if (config.metricsPort !== 9100) {
      problems.push(`${name}: METRICS_PORT ${config.metricsPort}, probes use 9100`);
    }
    if (!config.transporter || !config.channelsUrl || !config.mongoUrl) {
      problems.push(`${name}: TRANSPORTER, CHANNELS_URL and MONGO_URL are all required in a cluster`);
    }
  } catch (error) {
    problems.push(`${name}: ${error instanceof ConfigError ? error.message : String(error)}`);
  }
}

const what = `app config: shared/config.ts loadConfig accepts the environment of all ${dump.deployments.length} Deployments`;
if (problems.length === 0) {
  console.log(`ok    ${label}: ${what}`);
} else {
  console.log(`FAIL  ${label}: ${what}`);
  for (const problem of problems) console.log(`      ${problem}`);
  process.exit(1);
}
