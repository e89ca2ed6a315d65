import { expect } from "chai";
import { ClientWatch } from "../../shared/db/client-watch.ts";

/** A database client and a database, each up or down, and a clock the test moves. */
function world() {
  const state = { clientWorks: true, databaseUp: true, now: 0, rebuilds: 0 };
  const watch = new ClientWatch({
    pingClient: async () => {
      if (!state.clientWorks || !state.databaseUp) throw new Error("server selection timed out");
    },
    pingFresh: async () => {
      if (!state.databaseUp) throw new Error("connect ECONNREFUSED");
    },
    rebuild: async () => {
      state.rebuilds += 1;
      state.clientWorks = true;
    },
    suspectAfterMs: 30_000,
    now: () => state.now,
  });
  return { state, watch };
}

describe("the database client watch", () => {
  it("leaves a working client alone", async () => {
    const { state, watch } = world();
    expect(await watch.check()).to.equal("ok");
    expect(state.rebuilds).to.equal(0);
  });

  it("waits out a database outage without rebuilding anything, however long it lasts", async () => {
    const { state, watch } = world();
    state.databaseUp = false;
    expect(await watch.check()).to.equal("failing");
    state.now = 10 * 60_000;
    expect(await watch.check()).to.equal("database unreachable");
    state.databaseUp = true;
    expect(await watch.check()).to.equal("ok");
    expect(state.rebuilds).to.equal(0);
  });

  it("rebuilds a client stuck for 30 s while a fresh client reaches the database, once", async () => {
    const { state, watch } = world();
    state.clientWorks = false;
    expect(await watch.check()).to.equal("failing");
    state.now = 29_000;
    expect(await watch.check()).to.equal("failing");
    state.now = 30_000;
    expect(await watch.check()).to.equal("rebuilt");
    expect(await watch.check()).to.equal("ok");
    expect(state.rebuilds).to.equal(1);
  });

  it("keeps a client that answers once the fresh client has reached the database (it had not noticed yet)", async () => {
    const { state, watch } = world();
    state.databaseUp = false;
    expect(await watch.check()).to.equal("failing");
    state.now = 45_000;
    state.databaseUp = true;
    expect(await watch.check()).to.equal("ok");
    expect(state.rebuilds).to.equal(0);
  });

  it("counts the 30 s from the first failure: a client stuck after a long outage is rebuilt as soon as the database is back", async () => {
    const { state, watch } = world();
    state.databaseUp = false;
    state.clientWorks = false;
    expect(await watch.check()).to.equal("failing");
    state.now = 40_000;
    expect(await watch.check()).to.equal("database unreachable");
    state.databaseUp = true;
    expect(await watch.check()).to.equal("rebuilt");
  });
});
