import { expect } from "chai";
import { connect } from "nats";
import type { ChannelBus } from "../../shared/bus/index.ts";
import { JetStreamBus, StreamNames } from "../../shared/bus/jetstream.ts";
import { MemoryBus } from "../../shared/bus/memory.ts";
import { NATS_URL, removeNamespaceStreams, STACK, uniqueName } from "../helpers/environment.ts";

async function eventually(check: () => boolean | Promise<boolean>, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await check()) return;
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
  throw new Error("condition not met in time");
}

/** The channel bus contract: the memory bus and JetStream deliver alike. */
describe(`channel bus (${STACK === "distributed" ? "NATS JetStream" : "in memory"})`, function () {
  this.timeout(30_000);
  let namespace: string;
  const buses: ChannelBus[] = [];

  async function openBus(): Promise<ChannelBus> {
    const bus =
      STACK === "distributed"
        ? await JetStreamBus.connect(NATS_URL, uniqueName("bus-test-"), namespace)
        : new MemoryBus(() => 20);
    buses.push(bus);
    return bus;
  }

  beforeEach(() => {
    namespace = uniqueName("b-");
  });
  afterEach(async () => {
    for (const bus of buses.splice(0)) await bus.close();
    if (STACK === "distributed") await removeNamespaceStreams(namespace);
  });

  it("delivers each message once to every consumer group", async () => {
    const bus = await openBus();
    const seen: Record<string, string[]> = { streak: [], stats: [] };
    for (const group of Object.keys(seen)) {
      await bus.subscribe("user.deleted", group, async (payload) => {
        seen[group]!.push(payload.userId);
      });
    }
    for (const userId of ["u1", "u2", "u3"])
      await bus.publish("user.deleted", { userId, deletedAt: new Date().toISOString() });
    await eventually(() => seen.streak!.length === 3 && seen.stats!.length === 3);
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(seen.streak!.sort()).to.deep.equal(["u1", "u2", "u3"]);
    expect(seen.stats!.sort()).to.deep.equal(["u1", "u2", "u3"]);
  });

  it("drops a second publish of the same message id", async () => {
    const bus = await openBus();
    const seen: string[] = [];
    await bus.subscribe("user.deleted", "g", async (payload) => {
      seen.push(payload.userId);
    });
    const payload = { userId: "once", deletedAt: new Date().toISOString() };
    await bus.publish("user.deleted", payload, "once");
    await bus.publish("user.deleted", payload, "once");
    await bus.publish("user.deleted", { ...payload, userId: "other" }, "other");
    await eventually(() => seen.length >= 2);
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(seen.sort()).to.deep.equal(["once", "other"]);
  });

  it("retries a failing handler with backoff until it succeeds", async () => {
    const bus = await openBus();
    const attempts: number[] = [];
    await bus.subscribe("user.deleted", "flaky", async (_payload, info) => {
      attempts.push(info.attempt);
      if (info.attempt < 3) throw new Error("database is down");
    });
    await bus.publish("user.deleted", { userId: "retry", deletedAt: new Date().toISOString() });
    await eventually(() => attempts.length === 3);
    expect(attempts).to.deep.equal([1, 2, 3]);
    expect(await bus.deadLetterCount()).to.equal(0);
  });

  it("dead-letters a message after its last attempt, and keeps delivering the ones behind it", async () => {
    const bus = await openBus();
    const handled: string[] = [];
    await bus.subscribe(
      "user.deleted",
      "strict",
      async (payload) => {
        if (payload.userId === "poison") throw new Error("cannot handle this one");
        handled.push(payload.userId);
      },
      { maxAttempts: 2 },
    );
    await bus.publish("user.deleted", { userId: "poison", deletedAt: new Date().toISOString() });
    await bus.publish("user.deleted", { userId: "fine", deletedAt: new Date().toISOString() });
    await eventually(() => handled.includes("fine"));
    await eventually(async () => (await bus.deadLetterCount()) === 1);
  });

  it("terminates a dead-lettered message on the server, so that it is not delivered again (JetStream)", async function () {
    if (STACK !== "distributed") this.skip();
    const bus = await openBus();
    let attempts = 0;
    await bus.subscribe(
      "user.deleted",
      "terminal",
      async () => {
        attempts += 1;
        throw new Error("cannot handle this one");
      },
      { maxAttempts: 1 },
    );
    await bus.publish("user.deleted", { userId: "poison", deletedAt: new Date().toISOString() });
    await eventually(async () => (await bus.deadLetterCount()) === 1);
    // A term the server ignores (nats-server 2.9 ignores "+TERM <reason>") leaves the message pending
    // until the ack wait (30 s) ends, then delivers it again and it is dead-lettered a second time.
    const connection = await connect({ servers: NATS_URL });
    try {
      const jsm = await connection.jetstreamManager();
      const stream = new StreamNames(namespace).eventsStream;
      await eventually(
        async () => (await jsm.consumers.info(stream, "terminal__user_deleted")).num_ack_pending === 0,
        5000,
      );
    } finally {
      await connection.close();
    }
    expect(attempts).to.equal(1);
    expect(await bus.deadLetterCount()).to.equal(1);
  });

  it("keeps messages for a consumer group that subscribes later (durable on JetStream)", async function () {
    if (STACK !== "distributed") this.skip(); // the memory bus lives and dies with its process
    const publisher = await openBus();
    await publisher.publish("user.deleted", { userId: "early", deletedAt: new Date().toISOString() });
    const consumer = await openBus();
    const seen: string[] = [];
    await consumer.subscribe("user.deleted", "late", async (payload) => {
      seen.push(payload.userId);
    });
    await eventually(() => seen.includes("early"));
  });
});
