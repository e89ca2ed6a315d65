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

/**
 * Moleculer's transit waits a fixed 500 ms after connecting, for other nodes' INFO packets, before the
 * broker starts its services (moleculer/src/transit.js, afterConnect). Loading the services' modules, the
 * database driver and the bus takes about as long and does not need the transporter, so the broker starts
 * connecting first and the transit's connect is held until the loading is done: the two waits overlap,
 * and every service is still created before the broker starts services, so a failing `started` still
 * fails the start. Without a transporter there is nothing to overlap.
 */
function overlapTransporterWait(
  broker: ServiceBroker,
  loading: Promise<unknown>,
): { start(): Promise<void> } {
  const transit = broker.transit as { connect(): Promise<unknown> } | undefined;
  if (!transit) return { start: () => broker.start() };
  const connect = transit.connect.bind(transit);
  transit.connect = async () => (await Promise.all([connect(), loading]))[0];
  const starting = broker.start();
  // Until start() is awaited, a failed loading must not surface as an unhandled rejection here.
  starting.catch(() => undefined);
  return { start: () => starting };
}

/** Starts the services named by `config.services` in this process, with their ops server. */
export async function startSystem(config: Config): Promise<RunningSystem> {
  const entries = config.services.map((name) => SERVICES[name]);
  const usesDatabase = entries.some((entry) => entry.usesDatabase);
  const broker = new ServiceBroker(brokerOptions(config));
  const loading = Promise.all([
    Promise.all(entries.map(async (entry) => (await entry.load()).default)),
    createStorage(config),
    createBus(config, String(broker.nodeID)),
    loadSigningKeys(config),
  ]);
  const created = overlapTransporterWait(broker, loading);
  const [factories, storage, bus, keys] = await loading.catch(async (error: unknown) => {
    // The broker is already connecting: it must not be left holding the transporter open.
    await broker.stop().catch(() => undefined);
    throw error;
  });
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
    await created.start();
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
