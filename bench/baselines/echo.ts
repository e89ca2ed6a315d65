/**
 * Baseline: moleculer-web → NATS → an echo action in another process, the path every API request takes
 * before any of our code runs. ROLE=gateway (moleculer-web on PORT, `GET /api/v1/echo`) or ROLE=echo (the
 * action); TRANSPORTER and NAMESPACE as for the services. The brokers use the services' broker options
 * (validator, middlewares, timeouts), so the difference to a real route is our work, not configuration.
 * Prints "ready" once the broker (and for the gateway, the echo action) is available.
 */
import type { Context, ServiceSchema, ServiceSettingSchema } from "moleculer";
import { ServiceBroker } from "moleculer";
import ApiGateway from "moleculer-web";
import { brokerOptions } from "../../moleculer.config.ts";
import { loadConfig } from "../../shared/config.ts";

const role = process.env.ROLE;
const config = loadConfig({ ...process.env, SERVICES: "gateway", LOG_LEVEL: "warn" });
const broker = new ServiceBroker({
  ...brokerOptions(config),
  nodeID: `${config.namespace}-baseline-${role}`,
});

const echo: ServiceSchema = {
  name: "echo",
  actions: {
    echo: {
      handler(ctx: Context<Record<string, unknown>>) {
        return { ok: true, params: ctx.params };
      },
    },
  },
};

const gateway: ServiceSchema = {
  name: "baseline-gateway",
  mixins: [ApiGateway],
  settings: {
    port: Number(process.env.PORT),
    ip: "127.0.0.1",
    routes: [{ path: "/api/v1", mappingPolicy: "restrict", aliases: { "GET echo": "echo.echo" } }],
    log4XXResponses: false,
    logRequest: null,
    logResponse: null,
  } as ServiceSettingSchema,
};

if (role === "gateway") broker.createService(gateway);
else if (role === "echo") broker.createService(echo);
else throw new Error("ROLE must be gateway or echo");

await broker.start();
if (role === "gateway") await broker.waitForServices(["echo"], 30_000);
console.log("ready");
