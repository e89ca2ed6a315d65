import { Ajv } from "ajv";

/** Every service the system knows, in start order. `SERVICES` picks a subset per process. */
export const ALL_SERVICES = [
  "auth",
  "goals",
  "activity",
  "streak",
  "aggregation",
  "notification",
  "gateway",
] as const;
export type ServiceName = (typeof ALL_SERVICES)[number];

export interface Config {
  nodeEnv: "development" | "production" | "test";
  port: number;
  dataDir: string;
  transporter: string | null;
  channelsUrl: string | null;
  mongoUrl: string | null;
  services: ServiceName[];
  jwtPrivateKey: string | null;
  jwtPublicKey: string | null;
  adminEmails: string[];
  maxActiveGoals: number;
  rateLimitPerMinute: number;
  smtpUrl: string | null;
  webhookAllowPrivate: boolean;
  corsOrigins: string[] | "*";
  metricsPort: number;
  logLevel: "debug" | "info" | "warn" | "error";
  nodeId: string | null;
  /** Separates systems that share one NATS: Moleculer namespace and JetStream stream names. */
  namespace: string;
  /** Copies of each JetStream stream (3 on a 3-server NATS cluster). */
  jetstreamReplicas: number;
  /** The first webhook retry's backoff ceiling; each further retry doubles it. */
  webhookRetryBaseMs: number;
}

export class ConfigError extends Error {
  readonly variable: string;

  constructor(variable: string, problem: string) {
    super(`Invalid configuration: ${variable} ${problem}`);
    this.name = "ConfigError";
    this.variable = variable;
  }
}

const envSchema = {
  type: "object",
  properties: {
    NODE_ENV: { enum: ["development", "production", "test"] },
    PORT: { type: "string", pattern: "^[0-9]{1,5}$" },
    DATA_DIR: { type: "string", minLength: 1 },
    TRANSPORTER: { type: "string", pattern: "^nats://\\S+$" },
    CHANNELS_URL: { type: "string", pattern: "^nats://\\S+$" },
    MONGO_URL: { type: "string", pattern: "^mongodb(\\+srv)?://\\S+$" },
    SERVICES: { type: "string", pattern: "^[a-z]+(,[a-z]+)*$" },
    JWT_PRIVATE_KEY: { type: "string", pattern: "-----BEGIN [A-Z ]*PRIVATE KEY-----" },
    JWT_PUBLIC_KEY: { type: "string", pattern: "-----BEGIN PUBLIC KEY-----" },
    ADMIN_EMAILS: { type: "string" },
    MAX_ACTIVE_GOALS: { type: "string", pattern: "^[0-9]{1,6}$" },
    RATE_LIMIT_PER_MINUTE: { type: "string", pattern: "^[0-9]{1,7}$" },
    SMTP_URL: { type: "string", pattern: "^smtps?://\\S+$" },
    WEBHOOK_ALLOW_PRIVATE: { enum: ["true", "false"] },
    CORS_ORIGINS: { type: "string" },
    METRICS_PORT: { type: "string", pattern: "^[0-9]{1,5}$" },
    LOG_LEVEL: { enum: ["debug", "info", "warn", "error"] },
    NODE_ID: { type: "string", pattern: "^[A-Za-z0-9._-]{1,64}$" },
    NAMESPACE: { type: "string", pattern: "^[a-z0-9-]{1,32}$" },
    JETSTREAM_REPLICAS: { enum: ["1", "3", "5"] },
    WEBHOOK_RETRY_BASE_MS: { type: "string", pattern: "^[1-9][0-9]{0,6}$" },
  },
} as const;

const validateEnv = new Ajv({ allErrors: false }).compile(envSchema);

type Env = Record<string, string | undefined>;

function port(env: Env, name: string, fallback: number): number {
  const raw = env[name];
  if (raw === undefined) return fallback;
  const value = Number(raw);
  if (value > 65535) throw new ConfigError(name, "must be a port number (0..65535)");
  return value;
}

function list(raw: string | undefined): string[] {
  return (raw ?? "")
    .split(",")
    .map((item) => item.trim())
    .filter((item) => item.length > 0);
}

function parseServices(raw: string | undefined): ServiceName[] {
  if (raw === undefined || raw === "all") return [...ALL_SERVICES];
  const names = list(raw);
  for (const name of names) {
    if (!(ALL_SERVICES as readonly string[]).includes(name)) {
      throw new ConfigError(
        "SERVICES",
        `names an unknown service "${name}" (known: ${ALL_SERVICES.join(", ")})`,
      );
    }
  }
  return names as ServiceName[];
}

function retryBase(raw: string | undefined): number {
  const value = Number(raw ?? 1000);
  if (value > 3_600_000) throw new ConfigError("WEBHOOK_RETRY_BASE_MS", "must be at most 3600000 (one hour)");
  return value;
}

/** Production never generates keys: the signer needs both halves, the verifier the public one. */
function requireProductionKeys(env: Env, services: ServiceName[]): void {
  if (services.includes("auth") && !env.JWT_PRIVATE_KEY) {
    throw new ConfigError("JWT_PRIVATE_KEY", "is required when NODE_ENV=production");
  }
  if (!env.JWT_PUBLIC_KEY) throw new ConfigError("JWT_PUBLIC_KEY", "is required when NODE_ENV=production");
}

/** Reads and validates the environment once; throws a ConfigError naming the first bad variable. */
export function loadConfig(source: Env = process.env): Config {
  const env: Env = {};
  for (const key of Object.keys(envSchema.properties)) {
    const value = source[key];
    if (value !== undefined && value !== "") env[key] = value;
  }
  if (env.SERVICES === "all") delete env.SERVICES;
  if (!validateEnv(env)) {
    const error = validateEnv.errors?.[0];
    const variable = error?.instancePath.replace(/^\//, "") || "environment";
    throw new ConfigError(variable, `is malformed (${error?.message ?? "invalid"})`);
  }
  const nodeEnv = (env.NODE_ENV ?? "development") as Config["nodeEnv"];
  const production = nodeEnv === "production";
  const services = parseServices(env.SERVICES);
  if (production) requireProductionKeys(env, services);
  const corsOrigins = env.CORS_ORIGINS === undefined ? (production ? [] : "*") : list(env.CORS_ORIGINS);
  return {
    nodeEnv,
    port: port(env, "PORT", 3000),
    dataDir: env.DATA_DIR ?? "./data",
    transporter: env.TRANSPORTER ?? null,
    channelsUrl: env.CHANNELS_URL ?? null,
    mongoUrl: env.MONGO_URL ?? null,
    services,
    jwtPrivateKey: env.JWT_PRIVATE_KEY ?? null,
    jwtPublicKey: env.JWT_PUBLIC_KEY ?? null,
    adminEmails: list(env.ADMIN_EMAILS).map((email) => email.toLowerCase()),
    maxActiveGoals: Number(env.MAX_ACTIVE_GOALS ?? 100),
    rateLimitPerMinute: Number(env.RATE_LIMIT_PER_MINUTE ?? 1200),
    smtpUrl: env.SMTP_URL ?? null,
    webhookAllowPrivate: env.WEBHOOK_ALLOW_PRIVATE === "true",
    corsOrigins: corsOrigins.length === 1 && corsOrigins[0] === "*" ? "*" : corsOrigins,
    metricsPort: port(env, "METRICS_PORT", 9100),
    logLevel: (env.LOG_LEVEL ?? "info") as Config["logLevel"],
    nodeId: env.NODE_ID ?? null,
    namespace: env.NAMESPACE ?? "goal-tracker",
    jetstreamReplicas: Number(env.JETSTREAM_REPLICAS ?? 1),
    webhookRetryBaseMs: retryBase(env.WEBHOOK_RETRY_BASE_MS),
  };
}
