import type { AddressInfo } from "node:net";
import { ServiceBroker } from "moleculer";
import { brokerOptions } from "../moleculer.config.ts";
import { SERVICES } from "../services/index.ts";
import { loadSigningKeys } from "./auth/keys.ts";
import { type ChannelBus, createBus } from "./bus/index.ts";
import type { Config } from "./config.ts";
import { createStorage, type Storage } from "./db/index.ts";
import { OpsServer, type ReadinessCheck } from "./ops/server.ts";

export interface RunningSystem {
  broker: ServiceBroker;
  bus: ChannelBus;
  storage: Storage;
  /** The gateway's HTTP port when this process runs the gateway. */
  gatewayPort: number | null;
  opsPort: number;
  /** Fails readiness at once, then stops the broker (waiting for requests in flight) and the connections. */
  stop(): Promise<void>;
}

/** Starts the services named by `config.services` in this process, with their ops server. */
export async function startSystem(config: Config): Promise<RunningSystem> {
  const entries = config.services.map((name) => SERVICES[name]);
  const usesDatabase = entries.some((entry) => entry.usesDatabase);
  const broker = new ServiceBroker(brokerOptions(config));
  const [factories, storage, bus, keys] = await Promise.all([
    Promise.all(entries.map(async (entry) => (await entry.load()).default)),
    createStorage(config),
    createBus(config, String(broker.nodeID)),
    loadSigningKeys(config),
  ]);
  const deps = { config, storage, bus, keys };
  for (const create of factories) broker.createService(create(deps));

  const checks: Record<string, ReadinessCheck> = { bus: () => bus.ping() };
  if (usesDatabase) checks.database = () => storage.ping();
  if (config.transporter) {
    checks.transporter = async () => {
      if (!broker.transit?.connected) throw new Error("transporter is disconnected");
    };
  }
  const ops = new OpsServer(checks);

  try {
    await broker.start();
  } catch (error) {
    await broker.stop().catch(() => undefined);
    await bus.close().catch(() => undefined);
    await storage.close().catch(() => undefined);
    throw error;
  }
  const opsPort = await ops.listen(config.metricsPort);
  const gateway = config.services.includes("gateway") ? broker.getLocalService("gateway") : null;
  const server = (gateway as unknown as { server?: { address(): AddressInfo } } | null)?.server;

  let stopping: Promise<void> | null = null;
  return {
    broker,
    bus,
    storage,
    gatewayPort: server ? server.address().port : null,
    opsPort,
    stop() {
      stopping ??= (async () => {
        ops.drain();
        await broker.stop();
        await bus.close();
        await storage.close();
        await ops.close();
      })();
      return stopping;
    },
  };
}
