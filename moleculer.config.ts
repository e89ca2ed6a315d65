import os from "node:os";
import type { BrokerOptions } from "moleculer";
import type { Config } from "./shared/config.ts";
import { actionMetrics } from "./shared/mixins.ts";
import { jsonSchemaValidator } from "./shared/validation.ts";

/** Broker options for one process, from the validated configuration. */
export function brokerOptions(config: Config): BrokerOptions {
  return {
    namespace: config.namespace,
    nodeID: config.nodeId ?? `${os.hostname()}-${config.services.join("+")}-${process.pid}`,
    // No transporter: every service of this process talks in memory (the embedded mode).
    // A connection string (nats://…) is accepted at run time; the typings list only names and objects.
    transporter: (config.transporter ?? null) as BrokerOptions["transporter"],
    logger: {
      type: "Console",
      options: {
        level: config.logLevel,
        formatter: config.nodeEnv === "production" ? "json" : "short",
        colors: config.nodeEnv !== "production" && process.stdout.isTTY,
        moduleColors: false,
      },
    },
    // Params are JSON Schemas checked by ajv (shared/validation.ts), not fastest-validator.
    validator: false,
    middlewares: [jsonSchemaValidator, actionMetrics],
    // Metrics are prom-client's (shared/ops/metrics.ts), served by the ops server.
    metrics: false,
    tracing: false,
    requestTimeout: 15_000,
    retryPolicy: { enabled: false },
    registry: { strategy: "RoundRobin", preferLocal: true },
    // On SIGTERM the broker waits for requests in flight before it stops.
    tracking: { enabled: true, shutdownTimeout: 10_000 },
    // A crashed node is dropped from the registry within 6 s; its callers then get a fast 503.
    heartbeatInterval: 2,
    heartbeatTimeout: 6,
  };
}
