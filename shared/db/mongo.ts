import mongoose, { type Connection, type Model, Schema } from "mongoose";
import { databaseClientRebuilds } from "../ops/metrics.ts";
import { ClientWatch } from "./client-watch.ts";
import {
  type Collection,
  type Doc,
  guardDuplicates,
  OpenedCollections,
  type Filter,
  type FindOptions,
  type ModelDefinition,
  type Storage,
  type Update,
} from "./collection.ts";

const DUPLICATE_KEY = 11000;

function isDuplicateKey(error: unknown): boolean {
  return (error as { code?: number } | null)?.code === DUPLICATE_KEY;
}

class MongoCollection<T extends Doc> implements Collection<T> {
  readonly name: string;
  private readonly model: Model<T>;

  constructor(name: string, model: Model<T>) {
    this.name = name;
    this.model = model;
  }

  async insert(doc: T): Promise<T> {
    await this.guard(() => this.model.collection.insertOne(doc as never));
    return doc;
  }

  findOne(filter: Filter): Promise<T | null> {
    return this.model.findOne(filter).lean<T>().exec() as Promise<T | null>;
  }

  find(filter: Filter, options: FindOptions = {}): Promise<T[]> {
    let query = this.model.find(filter);
    if (options.sort) query = query.sort(options.sort);
    if (options.skip) query = query.skip(options.skip);
    if (options.limit) query = query.limit(options.limit);
    return query.lean<T[]>().exec();
  }

  count(filter: Filter): Promise<number> {
    return this.model.countDocuments(filter).exec();
  }

  async updateOne(filter: Filter, update: Update, options: { upsert?: boolean } = {}): Promise<number> {
    const result = await this.guard(() =>
      this.model.updateOne(filter, update, { upsert: options.upsert ?? false }).exec(),
    );
    return result.matchedCount;
  }

  async updateMany(filter: Filter, update: Update): Promise<number> {
    const result = await this.guard(() => this.model.updateMany(filter, update).exec());
    return result.matchedCount;
  }

  findOneAndUpdate(filter: Filter, update: Update, options: { upsert?: boolean } = {}): Promise<T | null> {
    return this.guard(
      () =>
        this.model
          .findOneAndUpdate(filter, update, { upsert: options.upsert ?? false, new: true })
          .lean<T>()
          .exec() as Promise<T | null>,
    );
  }

  async deleteOne(filter: Filter): Promise<number> {
    return (await this.model.deleteOne(filter).exec()).deletedCount;
  }

  async deleteMany(filter: Filter): Promise<number> {
    return (await this.model.deleteMany(filter).exec()).deletedCount;
  }

  private guard<R>(operation: () => Promise<R>): Promise<R> {
    return guardDuplicates(this.name, isDuplicateKey, operation);
  }
}

const CONNECTION_OPTIONS = { serverSelectionTimeoutMS: 5000, autoIndex: false, autoCreate: false };
/** How often the client in use is looked at, and how long it may fail before a fresh client is asked. */
const WATCH_INTERVAL_MS = 5000;
const SUSPECT_AFTER_MS = 30_000;

async function pingThrough(connection: Connection): Promise<void> {
  const db = connection.db;
  if (!db) throw new Error("MongoDB connection has no database");
  await db.command({ ping: 1 }, { timeoutMS: 2000 });
}

/**
 * MongoDB through mongoose. Only what both MongoDB and FerretDB v1 support is used: no transactions,
 * no change streams, no TTL or partial indexes. Connection failures surface at once (no endless retry),
 * so readiness reflects the truth.
 */
export class MongoStorage implements Storage {
  readonly kind = "mongodb" as const;
  private connection: Connection | null = null;
  private readonly opened = new OpenedCollections();
  private readonly url: string;
  private watchTimer: NodeJS.Timeout | null = null;

  constructor(url: string) {
    this.url = url;
  }

  private async connect(): Promise<Connection> {
    if (!this.connection) {
      this.connection = mongoose.createConnection(this.url, CONNECTION_OPTIONS);
      await this.connection.asPromise();
      this.watch(this.connection);
    }
    return this.connection;
  }

  /** Rebuilds the client when it stays cut off from a database a fresh client reaches (see ClientWatch). */
  private watch(connection: Connection): void {
    const watch = new ClientWatch({
      pingClient: () => pingThrough(connection),
      pingFresh: async () => {
        const probe = mongoose.createConnection(this.url, {
          ...CONNECTION_OPTIONS,
          serverSelectionTimeoutMS: 3000,
        });
        try {
          await probe.asPromise();
          await pingThrough(probe);
        } finally {
          await probe.close().catch(() => undefined);
        }
      },
      rebuild: async () => {
        console.warn(
          `[${new Date().toISOString()}] WARN  STORAGE: database client rebuilt: it failed for ${SUSPECT_AFTER_MS / 1000} s while a fresh client reached the database`,
        );
        await this.rebuildClient();
      },
      suspectAfterMs: SUSPECT_AFTER_MS,
    });
    let looking = false;
    this.watchTimer = setInterval(() => {
      if (looking) return;
      looking = true;
      watch
        .check()
        .catch(() => undefined)
        .finally(() => {
          looking = false;
        });
    }, WATCH_INTERVAL_MS);
    this.watchTimer.unref();
  }

  open<T extends Doc>(definition: ModelDefinition<T>): Promise<Collection<T>> {
    return this.opened.get(definition, (definition) => this.load(definition));
  }

  private async load<T extends Doc>(definition: ModelDefinition<T>): Promise<Collection<T>> {
    const connection = await this.connect();
    const schema = new Schema<T>(
      { _id: { type: String, required: true }, ...definition.fields },
      { versionKey: false, strict: true, collection: definition.name, _id: false },
    );
    for (const index of definition.indexes) {
      schema.index(index.fields, { unique: index.unique ?? false });
    }
    const model = connection.model<T>(definition.name, schema);
    await model.createCollection().catch(() => undefined);
    await model.createIndexes();
    return new MongoCollection(definition.name, model);
  }

  /**
   * Replaces the client under every opened collection with a new one (what the watch does when the client
   * is stuck). A plain close, not a forced one: mongoose refuses every later operation after a forced close.
   */
  async rebuildClient(): Promise<void> {
    const connection = await this.connect();
    databaseClientRebuilds.inc();
    await connection.close();
    await connection.openUri(this.url, CONNECTION_OPTIONS);
  }

  async ping(): Promise<void> {
    await pingThrough(await this.connect());
  }

  async close(): Promise<void> {
    if (this.watchTimer) clearInterval(this.watchTimer);
    this.watchTimer = null;
    await this.connection?.close();
    this.connection = null;
    this.opened.clear();
  }
}
