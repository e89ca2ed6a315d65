import type { Config } from "../config.ts";
import type { Storage } from "./collection.ts";

export * from "./collection.ts";

/**
 * One switch for the whole process: MongoDB when MONGO_URL is set, embedded NeDB files otherwise. Only the
 * chosen driver is loaded: mongoose alone adds ~40 MB and ~0.2 s to a process's start.
 */
export async function createStorage(config: Pick<Config, "mongoUrl" | "dataDir">): Promise<Storage> {
  if (config.mongoUrl) {
    const { MongoStorage } = await import("./mongo.ts");
    return new MongoStorage(config.mongoUrl);
  }
  const { NedbStorage } = await import("./nedb.ts");
  return new NedbStorage(config.dataDir);
}
