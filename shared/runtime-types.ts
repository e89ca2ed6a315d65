import type { SigningKeys } from "./auth/keys.ts";
import type { ChannelBus } from "./bus/index.ts";
import type { Config } from "./config.ts";
import type { Storage } from "./db/index.ts";

/** What every service factory is given: the process's config and its shared connections. */
export interface ServiceDeps {
  config: Config;
  storage: Storage;
  bus: ChannelBus;
  keys: SigningKeys;
}
