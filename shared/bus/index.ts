import type { Config } from "../config.ts";
import type { ChannelBus } from "./channels.ts";
import { JetStreamBus } from "./jetstream.ts";
import { MemoryBus } from "./memory.ts";

export * from "./channels.ts";
export { MemoryBus } from "./memory.ts";

/** JetStream when CHANNELS_URL is set; the in-process bus otherwise. */
export async function createBus(
  config: Pick<Config, "channelsUrl" | "namespace">,
  name: string,
): Promise<ChannelBus> {
  return config.channelsUrl
    ? JetStreamBus.connect(config.channelsUrl, name, config.namespace)
    : new MemoryBus();
}
