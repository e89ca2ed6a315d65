import { expect } from "chai";
import { createStorage, defineModel, DuplicateKeyError, type Storage } from "../../shared/db/index.ts";
import { MongoStorage } from "../../shared/db/mongo.ts";
import { mongoBaseUrl, STACK, tempDir, uniqueName } from "../helpers/environment.ts";

interface Item {
  _id: string;
  owner: string;
  slot: number;
  count: number;
  at: Date;
  note: string | null;
}

const items = defineModel<Item>({
  name: "contract_items",
  fields: {
    owner: { type: String, required: true },
    slot: { type: Number, required: true },
    count: { type: Number, default: 0 },
    at: { type: Date, required: true },
    note: { type: String, default: null },
  },
  indexes: [{ fields: { owner: 1, slot: 1 }, unique: true }, { fields: { at: 1 } }],
});

/** The storage contract every service relies on, held to account on NeDB and on a MongoDB server. */
describe(`storage contract (${STACK === "distributed" ? "MongoDB wire protocol" : "NeDB files"})`, function () {
  let storage: Storage;
  let remove: () => Promise<void>;

  beforeEach(async () => {
    const data = await tempDir();
    remove = data.remove;
    storage = await createStorage({
      dataDir: data.dir,
      mongoUrl: STACK === "distributed" ? `${mongoBaseUrl()}${uniqueName("storage_")}` : null,
    });
  });
  afterEach(async () => {
    await storage.close();
    await remove();
  });

  const item = (id: string, owner: string, slot: number, at = new Date("2026-01-01T00:00:00Z")): Item => ({
    _id: id,
    owner,
    slot,
    count: 0,
    at,
    note: null,
  });

  it("inserts and finds documents, keeping string ids and dates", async () => {
    const collection = await storage.open(items);
    await collection.insert(item("a", "ann", 1));
    const found = await collection.findOne({ _id: "a" });
    expect(found?.at).to.be.instanceOf(Date);
    expect(found?.at.toISOString()).to.equal("2026-01-01T00:00:00.000Z");
    expect(found?.note).to.equal(null);
  });

  it("enforces unique indexes, compound ones included, with DuplicateKeyError", async () => {
    const collection = await storage.open(items);
    await collection.insert(item("a", "ann", 1));
    await collection.insert(item("b", "ann", 2));
    await collection.insert(item("c", "bob", 1));
    for (const duplicate of [item("a", "zed", 9), item("d", "ann", 1)]) {
      let error: unknown;
      await collection.insert(duplicate).catch((e: unknown) => (error = e));
      expect(error).to.be.instanceOf(DuplicateKeyError);
    }
    expect(await collection.count({})).to.equal(3);
  });

  it("lets exactly one of many concurrent inserts of one id win", async () => {
    const collection = await storage.open(items);
    const results = await Promise.allSettled(
      Array.from({ length: 8 }, (_, i) => collection.insert(item("same", `o${i}`, i))),
    );
    expect(results.filter((r) => r.status === "fulfilled")).to.have.length(1);
  });

  it("sorts, skips and limits; filters with $ne null, $lt and $in", async () => {
    const collection = await storage.open(items);
    for (let slot = 1; slot <= 5; slot += 1) {
      await collection.insert({
        ...item(`i${slot}`, "ann", slot, new Date(Date.UTC(2026, 0, slot))),
        note: slot % 2 ? "odd" : null,
      });
    }
    const page = await collection.find({ owner: "ann" }, { sort: { slot: -1 }, skip: 1, limit: 2 });
    expect(page.map((d) => d.slot)).to.deep.equal([4, 3]);
    expect((await collection.find({ note: { $ne: null } })).map((d) => d.slot).sort()).to.deep.equal([
      1, 3, 5,
    ]);
    expect(await collection.count({ at: { $lt: new Date(Date.UTC(2026, 0, 3)) } })).to.equal(2);
    expect(await collection.count({ slot: { $in: [2, 4, 9] } })).to.equal(2);
    expect(await collection.count({ note: null })).to.equal(2);
  });

  it("updates: matched counts, $inc, $set, upserts and findOneAndUpdate", async () => {
    const collection = await storage.open(items);
    await collection.insert(item("a", "ann", 1));
    expect(await collection.updateOne({ _id: "a" }, { $inc: { count: 2 }, $set: { note: "hi" } })).to.equal(
      1,
    );
    expect(await collection.updateOne({ _id: "missing" }, { $set: { note: "x" } })).to.equal(0);
    const after = await collection.findOneAndUpdate({ _id: "a" }, { $inc: { count: 1 } });
    expect(after).to.include({ count: 3, note: "hi" });
    expect(await collection.findOneAndUpdate({ _id: "none" }, { $inc: { count: 1 } })).to.equal(null);
    await collection.updateOne(
      { _id: "u" },
      { $inc: { count: 1 }, $set: { owner: "up", slot: 7, at: new Date(), note: null } },
      { upsert: true },
    );
    await collection.updateOne({ _id: "u" }, { $inc: { count: 1 } }, { upsert: true });
    expect((await collection.findOne({ _id: "u" }))?.count).to.equal(2);
    expect(
      await collection.updateMany({ owner: { $in: ["ann", "up"] } }, { $set: { note: "all" } }),
    ).to.equal(2);
  });

  it("deletes one or many", async () => {
    const collection = await storage.open(items);
    for (let slot = 1; slot <= 3; slot += 1) await collection.insert(item(`d${slot}`, "ann", slot));
    expect(await collection.deleteOne({ _id: "d1" })).to.equal(1);
    expect(await collection.deleteMany({ owner: "ann" })).to.equal(2);
    expect(await collection.count({})).to.equal(0);
  });

  it("hands out one collection per name, so every part of a process sees the same data", async () => {
    const first = await storage.open(items);
    const second = await storage.open(items);
    await first.insert(item("shared", "ann", 1));
    expect(await second.findOne({ _id: "shared" })).to.not.equal(null);
  });

  it("keeps every opened collection working on a rebuilt client (MongoDB)", async function () {
    if (!(storage instanceof MongoStorage)) this.skip(); // NeDB has no client to rebuild
    const collection = await storage.open(items);
    await collection.insert(item("before", "o", 1));
    await storage.rebuildClient();
    await collection.insert(item("after", "o", 2));
    expect(
      (await collection.find({ owner: "o" }, { sort: { slot: 1 } })).map((doc) => doc._id),
    ).to.deep.equal(["before", "after"]);
    expect(await collection.updateOne({ _id: "before" }, { $inc: { count: 1 } })).to.equal(1);
    await storage.ping();
  });

  it("answers ping while it can reach its database", async () => {
    await storage.ping();
  });
});
