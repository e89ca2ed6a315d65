/**
 * NeDB appends every write to its data file with fs.appendFile, which opens and closes the file each time:
 * under load the open and close cost more CPU than the write itself (a third of the activity and streak
 * services' CPU per log in bench/README.md's profile). This keeps one append handle per data file instead.
 *
 * NeDB calls its storage module through the module object, so replacing the functions there reaches every
 * datastore. Whatever replaces or removes a data file (compaction's crash-safe rewrite, the integrity check
 * at load, dropping a database) first closes the file's handle, so that no append lands in a file that is
 * no longer the data file. NeDB runs one operation at a time per datastore, so appends to one file never
 * race each other or a rewrite. Durability is unchanged: NeDB's appendFile did not fsync either.
 */
import type { FileHandle } from "node:fs/promises";
import { open } from "node:fs/promises";
import { createRequire } from "node:module";

type AppendOptions = { encoding?: BufferEncoding; mode?: number } | BufferEncoding;

interface NedbStorageModule {
  appendFileAsync(filename: string, data: string, options?: AppendOptions): Promise<void>;
  crashSafeWriteFileLinesAsync(filename: string, ...rest: unknown[]): Promise<void>;
  ensureDatafileIntegrityAsync(filename: string, ...rest: unknown[]): Promise<void>;
  unlinkAsync(filename: string): Promise<void>;
}

const handles = new Map<string, Promise<FileHandle>>();

async function closeHandle(filename: string): Promise<void> {
  const handle = handles.get(filename);
  if (!handle) return;
  handles.delete(filename);
  await (await handle.catch(() => null))?.close();
}

/** Closes the kept handles of these data files (their storage is closing; no write is in flight). */
export async function closeAppendHandles(filenames: string[]): Promise<void> {
  await Promise.all(filenames.map(closeHandle));
}

function installAppendHandles(): void {
  const storage = createRequire(import.meta.url)("@seald-io/nedb/lib/storage.js") as NedbStorageModule;
  storage.appendFileAsync = async (filename, data, options) => {
    let handle = handles.get(filename);
    if (!handle) {
      handle = open(filename, "a", typeof options === "object" ? options.mode : undefined);
      handles.set(filename, handle);
      handle.catch(() => handles.delete(filename));
    }
    await (await handle).appendFile(data, typeof options === "object" ? options.encoding : options);
  };
  for (const name of [
    "crashSafeWriteFileLinesAsync",
    "ensureDatafileIntegrityAsync",
    "unlinkAsync",
  ] as const) {
    const original = storage[name].bind(storage) as (filename: string, ...rest: unknown[]) => Promise<void>;
    storage[name] = async (filename: string, ...rest: unknown[]) => {
      await closeHandle(filename);
      return original(filename, ...rest);
    };
  }
}

installAppendHandles();
