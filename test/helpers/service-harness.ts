import { ServiceBroker } from "moleculer";
import { generateKeyPair } from "../../shared/auth/keys.ts";
import { type Config, loadConfig, type ServiceName } from "../../shared/config.ts";
import type { RequestMeta } from "../../shared/context.ts";
import { type RunningSystem, startSystem } from "../../shared/runtime.ts";
import {
  distributedEnv,
  NATS_URL,
  removeNamespaceStreams,
  STACK,
  tempDir,
  uniqueName,
} from "./environment.ts";

export interface ServiceHarness {
  config: Config;
  system: RunningSystem;
  /** Calls an action as another node would: over NATS on the distributed stack. */
  call<T>(action: string, params?: object, meta?: RequestMeta): Promise<T>;
  stop(): Promise<void>;
}

/**
 * A broker running the named services against this run's stack (NeDB and the memory bus, or
 * FerretDB and JetStream), and on the distributed stack a second broker that calls in over NATS.
 */
export async function startServices(
  services: ServiceName[],
  env: Record<string, string> = {},
): Promise<ServiceHarness> {
  const data = await tempDir();
  const namespace = uniqueName("s-");
  const keys = generateKeyPair();
  const stackEnv =
    STACK === "distributed"
      ? { ...distributedEnv(namespace), JWT_PRIVATE_KEY: keys.privateKey, JWT_PUBLIC_KEY: keys.publicKey }
      : {};
  const config = loadConfig({
    LOG_LEVEL: "warn",
    NODE_ENV: "test",
    ...stackEnv,
    ...env,
    SERVICES: services.join(","),
    DATA_DIR: data.dir,
    PORT: "0",
    METRICS_PORT: "0",
    NODE_ID: `${namespace}-services`,
  });
  const system = await startSystem(config);
  let client: ServiceBroker = system.broker;
  if (STACK === "distributed") {
    client = new ServiceBroker({
      namespace,
      nodeID: `${namespace}-client`,
      transporter: { type: "NATS", options: { url: NATS_URL } },
      logger: false,
    });
    await client.start();
    await client.waitForServices(services, 10_000);
  }
  return {
    config,
    system,
    call: (action, params = {}, meta = {}) => client.call(action, params, { meta }),
    async stop() {
      if (client !== system.broker) await client.stop();
      await system.stop();
      if (STACK === "distributed") await removeNamespaceStreams(namespace);
      await data.remove();
    },
  };
}
