import type { SchemaDefinition } from "mongoose";

/** A stored document: ids are opaque strings on every backend. */
export interface Doc {
  _id: string;
}

export type SortSpec = Record<string, 1 | -1>;

export interface IndexSpec {
  fields: SortSpec;
  unique?: boolean;
}

/**
 * A collection declared once (in a service's model.ts) and opened on either backend.
 * `fields` is the mongoose schema; NeDB stores the same documents schemaless.
 */
export interface ModelDefinition<T extends Doc> {
  name: string;
  fields: SchemaDefinition;
  indexes: IndexSpec[];
  /** Compile-time only: ties the definition to its document type. */
  readonly __doc?: T;
}

export type Filter = Record<string, unknown>;

/** The update operators both backends implement identically. */
export interface Update {
  $set?: Record<string, unknown>;
  $unset?: Record<string, true>;
  $inc?: Record<string, number>;
  $push?: Record<string, unknown>;
  $pull?: Record<string, unknown>;
}

export interface FindOptions {
  sort?: SortSpec;
  limit?: number;
  skip?: number;
}

export interface Collection<T extends Doc> {
  readonly name: string;
  /** Inserts; a unique index violation throws DuplicateKeyError. */
  insert(doc: T): Promise<T>;
  findOne(filter: Filter): Promise<T | null>;
  find(filter: Filter, options?: FindOptions): Promise<T[]>;
  count(filter: Filter): Promise<number>;
  /** Returns how many documents matched (0 or 1), so a conditional update can tell whether it won. */
  updateOne(filter: Filter, update: Update, options?: { upsert?: boolean }): Promise<number>;
  updateMany(filter: Filter, update: Update): Promise<number>;
  /** Applies the update to one document and returns it as it is afterwards (or null when none matched). */
  findOneAndUpdate(filter: Filter, update: Update, options?: { upsert?: boolean }): Promise<T | null>;
  deleteOne(filter: Filter): Promise<number>;
  deleteMany(filter: Filter): Promise<number>;
}

export class DuplicateKeyError extends Error {
  constructor(collection: string) {
    super(`Duplicate key in ${collection}`);
    this.name = "DuplicateKeyError";
  }
}

/** Where collections live: NeDB files in embedded mode, MongoDB when MONGO_URL is set. */
export interface Storage {
  readonly kind: "nedb" | "mongodb";
  open<T extends Doc>(model: ModelDefinition<T>): Promise<Collection<T>>;
  ping(): Promise<void>;
  close(): Promise<void>;
}

export function defineModel<T extends Doc>(model: Omit<ModelDefinition<T>, "__doc">): ModelDefinition<T> {
  return model;
}

/** Maps a backend's duplicate-key failure to DuplicateKeyError, whatever the operation. */
export async function guardDuplicates<R>(
  collection: string,
  isDuplicate: (error: unknown) => boolean,
  operation: () => Promise<R>,
): Promise<R> {
  try {
    return await operation();
  } catch (error) {
    if (isDuplicate(error)) throw new DuplicateKeyError(collection);
    throw error;
  }
}

/**
 * Each collection is opened once per storage: two NeDB datastores on one file would each keep their
 * own copy in memory, and mongoose refuses a model defined twice.
 */
export class OpenedCollections {
  private readonly opened = new Map<string, Promise<Collection<Doc>>>();

  get<T extends Doc>(
    model: ModelDefinition<T>,
    load: (model: ModelDefinition<T>) => Promise<Collection<T>>,
  ): Promise<Collection<T>> {
    let collection = this.opened.get(model.name);
    if (!collection) {
      collection = load(model) as Promise<Collection<Doc>>;
      this.opened.set(model.name, collection);
    }
    return collection as Promise<Collection<T>>;
  }

  clear(): void {
    this.opened.clear();
  }
}
