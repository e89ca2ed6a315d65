import type { Config } from "../config.ts";
import type { Storage } from "./collection.ts";
import { MongoStorage } from "./mongo.ts";
import { NedbStorage } from "./nedb.ts";

export * from "./collection.ts";

/** One switch for the whole process: MongoDB when MONGO_URL is set, embedded NeDB files otherwise. */
export function createStorage(config: Pick<Config, "mongoUrl" | "dataDir">): Storage {
  return config.mongoUrl ? new MongoStorage(config.mongoUrl) : new NedbStorage(config.dataDir);
}
