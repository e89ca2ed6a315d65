import { mkdir } from "node:fs/promises";
import path from "node:path";
import { createRequire } from "node:module";
import type * as Nedb from "@seald-io/nedb";
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
import { closeAppendHandles } from "./nedb-appends.ts";

// The package's typings declare an ES default export, but at run time it is `module.exports = Datastore`.
const Datastore = createRequire(import.meta.url)("@seald-io/nedb") as typeof Nedb.default.default;
type Datastore<T> = InstanceType<typeof Nedb.default.default<T>>;

const COMPACTION_INTERVAL_MS = 10 * 60 * 1000;

function isUniqueViolation(error: unknown): boolean {
  return (error as { errorType?: string } | null)?.errorType === "uniqueViolated";
}

class NedbCollection<T extends Doc> implements Collection<T> {
  readonly name: string;
  private readonly store: Datastore<T>;

  constructor(name: string, store: Datastore<T>) {
    this.name = name;
    this.store = store;
  }

  async insert(doc: T): Promise<T> {
    return (await this.guard(() => this.store.insertAsync(doc))) as T;
  }

  findOne(filter: Filter): Promise<T | null> {
    return this.store.findOneAsync(filter) as Promise<T | null>;
  }

  find(filter: Filter, options: FindOptions = {}): Promise<T[]> {
    let cursor = this.store.findAsync(filter);
    if (options.sort) cursor = cursor.sort(options.sort);
    if (options.skip) cursor = cursor.skip(options.skip);
    if (options.limit) cursor = cursor.limit(options.limit);
    return cursor as unknown as Promise<T[]>;
  }

  count(filter: Filter): Promise<number> {
    return this.store.countAsync(filter) as unknown as Promise<number>;
  }

  async updateOne(filter: Filter, update: Update, options: { upsert?: boolean } = {}): Promise<number> {
    const result = await this.guard(() =>
      this.store.updateAsync(filter, update, { upsert: options.upsert ?? false }),
    );
    return result.upsert ? 0 : result.numAffected;
  }

  async updateMany(filter: Filter, update: Update): Promise<number> {
    const result = await this.guard(() => this.store.updateAsync(filter, update, { multi: true }));
    return result.numAffected;
  }

  async findOneAndUpdate(
    filter: Filter,
    update: Update,
    options: { upsert?: boolean } = {},
  ): Promise<T | null> {
    const result = await this.guard(() =>
      this.store.updateAsync(filter, update, {
        upsert: options.upsert ?? false,
        returnUpdatedDocs: true,
      }),
    );
    return (result.affectedDocuments as T | null) ?? null;
  }

  deleteOne(filter: Filter): Promise<number> {
    return this.store.removeAsync(filter, { multi: false });
  }

  deleteMany(filter: Filter): Promise<number> {
    return this.store.removeAsync(filter, { multi: true });
  }

  private guard<R>(operation: () => Promise<R>): Promise<R> {
    return guardDuplicates(this.name, isUniqueViolation, operation);
  }
}

/** Embedded storage: one append-only NeDB file per collection under DATA_DIR, compacted periodically. */
export class NedbStorage implements Storage {
  readonly kind = "nedb" as const;
  private readonly stores: Datastore<Doc>[] = [];
  private readonly filenames: string[] = [];
  private readonly opened = new OpenedCollections();
  private readonly dataDir: string;

  constructor(dataDir: string) {
    this.dataDir = dataDir;
  }

  open<T extends Doc>(model: ModelDefinition<T>): Promise<Collection<T>> {
    return this.opened.get(model, (definition) => this.load(definition));
  }

  private async load<T extends Doc>(model: ModelDefinition<T>): Promise<Collection<T>> {
    await mkdir(this.dataDir, { recursive: true });
    const filename = path.join(this.dataDir, `${model.name}.db`);
    const store = new Datastore<T>({ filename });
    this.filenames.push(filename);
    await store.loadDatabaseAsync();
    for (const index of model.indexes) {
      const fieldNames = Object.keys(index.fields);
      const fieldName = fieldNames.length === 1 ? fieldNames[0]! : fieldNames;
      await store.ensureIndexAsync({ fieldName, unique: index.unique ?? false });
    }
    store.setAutocompactionInterval(COMPACTION_INTERVAL_MS);
    this.stores.push(store as unknown as Datastore<Doc>);
    return new NedbCollection(model.name, store);
  }

  async ping(): Promise<void> {
    await mkdir(this.dataDir, { recursive: true });
  }

  async close(): Promise<void> {
    for (const store of this.stores) {
      store.stopAutocompaction();
      await store.compactDatafileAsync();
    }
    await closeAppendHandles(this.filenames);
    this.filenames.length = 0;
    this.stores.length = 0;
    this.opened.clear();
  }
}
