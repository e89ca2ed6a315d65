/**
 * NeDB writes through one kept append handle per data file (shared/db/nedb-appends.ts). What must not
 * change: every write reaches the file, also after a compaction has replaced the file under the handle,
 * and a data file dropped and recreated gets the new writes.
 */
import { readFile } from "node:fs/promises";
import { createRequire } from "node:module";
import path from "node:path";
import { expect } from "chai";
import type * as Nedb from "@seald-io/nedb";
import { closeAppendHandles } from "../../shared/db/nedb-appends.ts";
import { tempDir } from "../helpers/environment.ts";

const Datastore = createRequire(import.meta.url)("@seald-io/nedb") as typeof Nedb.default.default;

interface Item {
  _id: string;
  n: number;
}

async function reload(filename: string): Promise<Item[]> {
  const store = new Datastore<Item>({ filename });
  await store.loadDatabaseAsync();
  return (await store.findAsync({})).sort((a, b) => a.n - b.n);
}

describe("NeDB appends through kept file handles", () => {
  let dir: { dir: string; remove(): Promise<void> };
  let filename: string;

  beforeEach(async () => {
    dir = await tempDir("goal-tracker-nedb-appends-");
    filename = path.join(dir.dir, "items.db");
  });
  afterEach(async () => {
    await closeAppendHandles([filename]);
    await dir.remove();
  });

  it("writes every insert and update to the data file", async () => {
    const store = new Datastore<Item>({ filename });
    await store.loadDatabaseAsync();
    for (let n = 1; n <= 50; n += 1) await store.insertAsync({ _id: `i${n}`, n });
    await store.updateAsync({ _id: "i7" }, { $set: { n: 700 } });
    const lines = (await readFile(filename, "utf8")).trim().split("\n");
    expect(lines).to.have.length(51);
    expect((await reload(filename)).map((item) => item.n))
      .to.include(700)
      .and.to.have.length(50);
  });

  it("keeps writing to the data file after a compaction replaced it", async () => {
    const store = new Datastore<Item>({ filename });
    await store.loadDatabaseAsync();
    await store.insertAsync({ _id: "before", n: 1 });
    await store.compactDatafileAsync();
    await store.insertAsync({ _id: "after", n: 2 });
    await store.compactDatafileAsync();
    await store.insertAsync({ _id: "after-second", n: 3 });
    expect((await reload(filename)).map((item) => item._id)).to.deep.equal([
      "before",
      "after",
      "after-second",
    ]);
  });

  it("writes to the new file when a database is dropped and written again", async () => {
    const store = new Datastore<Item>({ filename });
    await store.loadDatabaseAsync();
    await store.insertAsync({ _id: "old", n: 1 });
    await store.dropDatabaseAsync();
    await store.loadDatabaseAsync();
    await store.insertAsync({ _id: "new", n: 2 });
    expect((await reload(filename)).map((item) => item._id)).to.deep.equal(["new"]);
  });
});
